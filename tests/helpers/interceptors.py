"""Servers with a test's own interceptor outermost, and what such interceptors share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc

from tams_server.app import serve
from tams_server.config import Config
from tams_server.interceptors.stream_aware import Context


@asynccontextmanager
async def intercepted_server(
    data: Path, interceptor: grpc.aio.ServerInterceptor
) -> AsyncIterator[str]:
    """A server (SQLite in ``data``) whose outermost interceptor is ``interceptor``;
    yields its gRPC target."""
    config = Config(
        grpc_port=0, http_port=0, data_dir=data,
        database_url=f"sqlite+aiosqlite:///{data / 'tams.db'}", run_workers=False,
        shutdown_grace_s=1.0,
    )  # fmt: skip
    async with serve(config, extra_interceptors=[interceptor]) as running:
        yield running.grpc_target


async def cut_after(
    responses: AsyncIterator[Any], context: Context, after: int, details: str
) -> AsyncIterator[Any]:
    """The first ``after`` messages of a response stream, then UNAVAILABLE: a dropped
    connection, as a client sees it."""
    sent = 0
    async for response in responses:
        yield response
        sent += 1
        if sent == after:
            break
    await responses.aclose()  # type: ignore[attr-defined]
    await context.abort(grpc.StatusCode.UNAVAILABLE, details)
