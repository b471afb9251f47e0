"""The REST gateway: the TAMS JSON API as a thin ASGI layer over the gRPC API. Every
request becomes exactly one gRPC call; no database, no business rules here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import grpc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tams.v1 import common_pb2
from tams_server.gateway.access import refused_first
from tams_server.gateway.body import MAX_BODY_BYTES, BodyTooLarge
from tams_server.gateway.credentials import (
    CredentialsInterceptor,
    ForwardCredentials,
    StreamCredentialsInterceptor,
)
from tams_server.gateway.dialects import SPEC_DIALECT, Dialect
from tams_server.gateway.docs import docs_routes
from tams_server.gateway.errors import error_response, http_error_response, rpc_error_response
from tams_server.gateway.hls import routes as hls
from tams_server.gateway.hls.player import player_routes
from tams_server.gateway.query import BadRequest
from tams_server.gateway.routes import (
    analytics,
    delete_requests,
    flows,
    health,
    objects,
    profiles,
    properties,
    segments,
    service,
    sources,
    storage,
    tags,
    webhooks,
)
from tams_server.gateway.stubs import Stubs
from tams_server.gateway.validation import validated_routes


def gateway_routes(
    dialect: Dialect = SPEC_DIALECT, *, hls_js: Path | None = None
) -> list[BaseRoute]:
    """Every route of the TAMS API the gateway serves (their handlers call the server
    through the stubs ``http_app`` puts on the application's state), each checking its
    requests against the served OpenAPI document first, in ``dialect`` (whose
    translations wrap the spec's routes); then the docs, and HLS playback (not part of
    the TAMS API, so the same in every dialect), its player using hls.js from
    ``hls_js`` (the source tree's npm install by default)."""
    api = [
        *service.ROUTES,
        *profiles.ROUTES,
        *sources.ROUTES,
        *flows.ROUTES,
        *properties.ROUTES,
        *tags.ROUTES,
        *segments.ROUTES,
        *storage.ROUTES,
        *objects.ROUTES,
        *delete_requests.ROUTES,
        *analytics.ROUTES,
        *webhooks.ROUTES,
        *health.ROUTES,
    ]
    return [
        *dialect.routes(validated_routes(api)),
        *docs_routes(dialect),
        *hls.ROUTES,
        *player_routes(hls_js),
    ]


def http_app(
    routes: Sequence[BaseRoute],
    channel: grpc.aio.Channel,
    *,
    dialect: Dialect = SPEC_DIALECT,
    middleware: Sequence[Middleware] = (),
) -> Starlette:
    """The ASGI app of the server's HTTP side: these routes, the gateway's calling the
    server on ``channel``, with errors answered as ``dialect``'s error bodies;
    ``middleware`` runs first (request metrics)."""

    async def on_rpc_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, grpc.aio.AioRpcError)
        return rpc_error_response(error, request)

    # Each refusal made before a route's call waits for the server to say that the
    # caller may make that call (gateway.access): 401/403 come first.
    async def on_bad_request(request: Request, error: Exception) -> Response:
        assert isinstance(error, BadRequest)
        if error.where and dialect.is_guide:
            return await refused_first(request, dialect.error(
                request, 400, "VALIDATION_ERROR", error.summary,
                where=error.where, kind=error.kind, message=error.message,
            ))  # fmt: skip
        refusal = error_response(400, error.error_type, error.summary, request)
        return await refused_first(request, refusal)

    async def on_too_large(request: Request, error: Exception) -> Response:
        refusal = error_response(
            413,
            common_pb2.ERROR_REASON_BODY_TOO_LARGE,
            f"bodies are limited to {MAX_BODY_BYTES} bytes",
            request,
        )
        return await refused_first(request, refusal)

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        refusal = http_error_response(error.status_code, str(error.detail), request)
        return await refused_first(request, refusal)

    app = Starlette(
        routes=list(routes),
        middleware=[*middleware, Middleware(ForwardCredentials)],
        exception_handlers={
            grpc.aio.AioRpcError: on_rpc_error,
            BadRequest: on_bad_request,
            BodyTooLarge: on_too_large,
            HTTPException: on_http,
        },
    )
    app.state.stubs = Stubs.over(channel)
    app.state.dialect = dialect
    return app


def gateway_channel(
    target: str,
    credentials: grpc.ChannelCredentials | None = None,
    *,
    interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
) -> grpc.aio.Channel:
    """The gateway's channel to the server at ``target`` (secure with ``credentials``):
    each call carries the credentials of the REST request it serves
    (``gateway.credentials``); ``interceptors`` run first (tracing)."""
    chain: list[grpc.aio.ClientInterceptor] = [
        *interceptors,
        CredentialsInterceptor(),
        StreamCredentialsInterceptor(),
    ]
    if credentials is None:
        return grpc.aio.insecure_channel(target, interceptors=chain)
    return grpc.aio.secure_channel(target, credentials, interceptors=chain)
