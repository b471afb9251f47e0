"""Shared pieces of the benchmarks: a server on a throwaway data folder, JSON lines."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc

from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc
from tams_server.app import RunningServer, serve
from tams_server.config import Config


def report(metric: str, value: float, unit: str, **extra: object) -> None:
    """Print one figure as a JSON line."""
    print(
        json.dumps({"metric": metric, "value": round(value, 6), "unit": unit, **extra}), flush=True
    )


@asynccontextmanager
async def server(
    database_url: str | None, *, storage: tuple[str, ...] = ()
) -> AsyncIterator[RunningServer]:
    """The real server in-process on a free port, on SQLite in a temp folder unless a
    database URL is given, with the local backend unless ``storage`` says otherwise."""
    with tempfile.TemporaryDirectory(prefix="tams-bench-") as tmp:
        config = Config(
            grpc_port=0, http_port=0, data_dir=Path(tmp), database_url=database_url,
            storage=storage,
        )  # fmt: skip
        async with serve(config) as running:
            yield running


@asynccontextmanager
async def server_process(
    database_url: str | None, *, storage: tuple[str, ...] = ()
) -> AsyncIterator[tuple[str, int]]:
    """``tams-server serve`` in a child process, so that the client's work does not
    count as the server's: (target, pid)."""
    with tempfile.TemporaryDirectory(prefix="tams-bench-") as tmp:
        args = ["-m", "tams_server", "serve", "--grpc-port", "0", "--http-port", "0",
                "--data-dir", tmp, "--log-level", "WARNING"]  # fmt: skip
        if database_url:
            args += ["--database-url", database_url]
        for spec in storage:
            args += ["--storage", spec]
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdout=asyncio.subprocess.PIPE
        )
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        try:
            yield line.rsplit(" ", 1)[1].strip(), process.pid
        finally:
            process.terminate()
            await process.wait()


async def video_flow(channel: grpc.aio.Channel) -> str:
    """A new video Flow (container video/mp2t) for a benchmark's Segments; its id."""
    flow = flows_pb2.Flow(
        id=str(uuid.uuid4()), source_id=str(uuid.uuid4()), format="urn:x-nmos:format:video",
        codec="video/h264", container="video/mp2t",
        video=flows_pb2.VideoEssenceParameters(
            frame_width=1920, frame_height=1080, frame_rate=common_pb2.Rational(numerator=25)
        ),
    )  # fmt: skip
    await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    return flow.id
