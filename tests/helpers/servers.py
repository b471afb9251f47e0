"""Servers of a test's own, for settings the session's server (``running`` in
conftest.py) does not have: a fast janitor, background workers, other storage backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx
import pytest

from tams.v1 import (
    flow_delete_requests_pb2_grpc,
    flows_pb2_grpc,
    segments_pb2_grpc,
    sources_pb2_grpc,
    storage_pb2_grpc,
)
from tams_server.app import RunningServer, serve
from tams_server.config import Config

# For tests of expiry: allocations (and their upload URLs) last this long, enough for the
# test's PUTs to get in first on a loaded machine, short enough to wait for.
QUICK_EXPIRY_S = 3

T = TypeVar("T")


@dataclass(frozen=True)
class Stubs:
    """A running server, one channel to it and a stub of each service on that channel."""

    running: RunningServer
    channel: grpc.aio.Channel
    flows: flows_pb2_grpc.FlowServiceStub
    sources: sources_pb2_grpc.SourceServiceStub
    segments: segments_pb2_grpc.SegmentServiceStub
    storage: storage_pb2_grpc.StorageServiceStub
    delete_requests: flow_delete_requests_pb2_grpc.FlowDeleteRequestServiceStub

    @classmethod
    def on(cls, running: RunningServer, channel: grpc.aio.Channel) -> Stubs:
        return cls(
            running,
            channel,
            flows_pb2_grpc.FlowServiceStub(channel),
            sources_pb2_grpc.SourceServiceStub(channel),
            segments_pb2_grpc.SegmentServiceStub(channel),
            storage_pb2_grpc.StorageServiceStub(channel),
            flow_delete_requests_pb2_grpc.FlowDeleteRequestServiceStub(channel),
        )

    def object_file(self, put_url: str) -> Path:
        """The file that holds the bytes PUT to ``put_url`` (local backend)."""
        key = httpx.URL(put_url).path.split("/_objects/", 1)[1]
        return self.running.objects.path_of(key)


@asynccontextmanager
async def own_server(data_dir: Path, database_url: str, **settings: Any) -> AsyncIterator[Stubs]:
    """A server on free ports with ``data_dir``, ``database_url`` and the Config
    ``settings`` given; it stops (2 s grace unless given) when the block ends."""
    settings.setdefault("shutdown_grace_s", 2.0)
    config = Config(
        grpc_port=0, http_port=0, data_dir=data_dir, database_url=database_url, **settings
    )
    async with serve(config) as running, grpc.aio.insecure_channel(running.grpc_target) as channel:
        yield Stubs.on(running, channel)


def module_fixture(
    start: Callable[..., AbstractAsyncContextManager[T]], folder: str, **settings: Any
) -> Callable[..., AsyncIterator[T]]:
    """A module-scoped fixture (named as the module names it) of what
    ``start(new folder named after folder, database_url, **settings)`` yields: for
    example ``secret_server = module_fixture(auth.secret_server, "secret")``."""

    @pytest.fixture(scope="module")
    async def fixture(
        tmp_path_factory: pytest.TempPathFactory, database_url: str
    ) -> AsyncIterator[T]:
        async with start(tmp_path_factory.mktemp(folder), database_url, **settings) as started:
            yield started

    return fixture


@asynccontextmanager
async def guide_dialect_server(
    data_dir: Path, database_url: str, **settings: Any
) -> AsyncIterator[RunningServer]:
    """A server whose REST side speaks the usage guide's dialect (``guide-7.0``), with
    ``data_dir``, ``database_url`` and the Config ``settings`` given (1 s grace)."""
    config = Config(
        grpc_port=0, http_port=0, data_dir=data_dir, database_url=database_url,
        rest_dialect="guide-7.0", shutdown_grace_s=1.0, **settings,
    )  # fmt: skip
    async with serve(config) as running:
        yield running


async def gone(path: Path) -> None:
    """Wait (with a deadline) until a background task (the janitor) has removed ``path``."""
    async with asyncio.timeout(20):
        while await asyncio.to_thread(path.exists):  # noqa: ASYNC110 - the file is the witness
            await asyncio.sleep(0.05)
