"""The caller's credentials, forwarded on the one gRPC call a REST request makes: the
gateway has no rights of its own and judges no credentials; the server does.

``Authorization: Bearer ...`` and ``Authorization: Basic ...`` go as they are; the
spec's ``access_token`` query parameter goes as ``Bearer <token>`` (the header wins
when a request has both). A value gRPC metadata cannot carry (not printable ASCII,
or beyond the server's bound) is replaced by a stand-in the server rejects as
malformed, so such a request gets the same 401 as any other bad credentials (and
nothing at all changes on a server without authentication, which ignores them)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import grpc
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

# Mirrors tams_server.auth.credentials.MAX_CREDENTIAL_BYTES (the gateway imports only
# gateway modules): longer values never reach the server.
MAX_FORWARDED_BYTES = 8 * 1024
UNREADABLE = "unreadable-credentials"
"""The stand-in for a value gRPC cannot carry: no scheme, so the server rejects it."""

_forwarded: ContextVar[str | None] = ContextVar("forwarded_authorization", default=None)


def authorization_of(scope: Scope) -> str | None:
    """The ``authorization`` value to forward for this HTTP request, if any."""
    value = Headers(scope=scope).get("authorization")
    if value is None:
        token = QueryParams(scope.get("query_string", b"")).get("access_token")
        value = None if token is None else f"Bearer {token}"
    if value is None:
        return None
    transportable = value.isascii() and value.isprintable()
    return value if transportable and len(value) <= MAX_FORWARDED_BYTES else UNREADABLE


class ForwardCredentials:
    """ASGI middleware: remembers each request's credentials for its gRPC call."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        token = _forwarded.set(authorization_of(scope))
        try:
            await self._app(scope, receive, send)
        finally:
            _forwarded.reset(token)


def _with_credentials(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
    """``details`` carrying the current request's credentials, if it has any."""
    value = _forwarded.get()
    if value is None:
        return details
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata["authorization"] = value
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


# A channel files each interceptor under one kind of call only: one class per kind the
# gateway makes (unary, and response-streaming for storage allocation).
class CredentialsInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """On the gateway's channel: adds the current request's credentials to its unary
    calls."""

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(_with_credentials(client_call_details), request)


class StreamCredentialsInterceptor(grpc.aio.UnaryStreamClientInterceptor):
    """On the gateway's channel: adds the current request's credentials to its
    response-streaming calls."""

    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(_with_credentials(client_call_details), request)
