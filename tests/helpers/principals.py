"""The scope tests' callers: where their principal comes from, in one place.

The server verifies real HS256 tokens (``--jwt-secret``); ``Callers`` hands out the
credentials of a caller holding given scopes: gRPC metadata carrying a token whose
``scope`` claim names them, and for REST the base URL of a gateway whose calls carry
that token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from helpers.auth import SECRET, bearer, hs256
from tams_server.app import RunningServer, serve
from tams_server.config import Config
from tams_server.gateway.app import gateway_routes, http_app
from tams_server.http.server import bind, http_server
from tams_server.interceptors.stream_aware import Context, StreamAwareInterceptor

READ, WRITE, DELETE, ADMIN = (f"tams-api/{s}" for s in ("read", "write", "delete", "admin"))
ALL_SCOPES = frozenset({READ, WRITE, DELETE, ADMIN})

Metadata = tuple[tuple[str, str], ...]


class CallRecorder(StreamAwareInterceptor):
    """Test only: the tams.v1 methods and health checks called, in order (reflection
    and health watches left out)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def before(self, context: Context, method_name: str) -> None:
        if method_name.startswith("/tams.v1.") or method_name == "/grpc.health.v1.Health/Check":
            self.calls.append(method_name)


class _AddMetadata:
    """Adds fixed metadata to the calls of a channel."""

    def __init__(self, metadata: Metadata) -> None:
        self._metadata = metadata

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), *self._metadata)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


# A channel files each interceptor under one kind of call only: one class per kind the
# gateway makes (unary, and response-streaming for storage allocation).
class _UnaryWithMetadata(_AddMetadata, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _StreamWithMetadata(_AddMetadata, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


@dataclass
class Callers:
    """Credentials of callers holding given scopes, on the server at ``grpc_target``."""

    grpc_target: str
    stack: AsyncExitStack
    _gateways: dict[frozenset[str], str] = field(default_factory=dict)

    def metadata(self, scopes: Iterable[str]) -> Metadata:
        """gRPC metadata of a caller holding ``scopes``: a token naming them."""
        token = hs256(sub="scope-test", scope=" ".join(sorted(scopes)), iss=None, aud=None)
        return bearer(token)

    async def http_url(self, scopes: Iterable[str]) -> str:
        """Base URL of a REST gateway whose calls are made by a caller holding
        ``scopes`` (started on first use, closed with ``stack``)."""
        key = frozenset(scopes)
        if key not in self._gateways:
            metadata = self.metadata(key)
            interceptors = [_UnaryWithMetadata(metadata), _StreamWithMetadata(metadata)]
            channel = await self.stack.enter_async_context(
                grpc.aio.insecure_channel(self.grpc_target, interceptors=interceptors)
            )
            sock, url = bind("127.0.0.1", 0)
            await self.stack.enter_async_context(
                http_server(http_app(gateway_routes(), channel), sock)
            )
            self._gateways[key] = url
        return self._gateways[key]


@dataclass(frozen=True)
class ScopeServer:
    """A server whose callers come from ``callers``, its tams.v1 calls recorded."""

    running: RunningServer
    recorder: CallRecorder
    callers: Callers


@asynccontextmanager
async def scope_server(data_dir: Path, database_url: str) -> AsyncIterator[ScopeServer]:
    """A server on free ports that verifies the callers' tokens, its calls recorded
    (before authentication: the recorder runs outermost)."""
    recorder = CallRecorder()
    config = Config(
        grpc_port=0, http_port=0, data_dir=data_dir, database_url=database_url,
        shutdown_grace_s=2.0, run_workers=False, jwt_secret=SECRET,
    )  # fmt: skip
    async with (
        serve(config, extra_interceptors=[recorder]) as running,
        AsyncExitStack() as stack,
    ):
        yield ScopeServer(running, recorder, Callers(running.grpc_target, stack))
