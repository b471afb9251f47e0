"""Shared pieces of the benchmarks: a server on a throwaway data folder, JSON lines."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import grpc

from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc, segments_pb2, segments_pb2_grpc
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
    database_url: str | None,
    *,
    storage: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    processes: int = 1,
) -> AsyncIterator[tuple[str, int]]:
    """``tams-server serve`` in a child process, so that the client's work does not
    count as the server's: (target, pid). ``env`` is added to its environment
    (``TAMS_*`` settings: secrets stay off the command line); ``processes`` > 1 runs
    ``serve --processes`` (the pid is then the parent's, its children serve)."""
    with tempfile.TemporaryDirectory(prefix="tams-bench-") as tmp:
        args = ["-m", "tams_server", "serve", "--grpc-port", "0", "--http-port", "0",
                "--data-dir", tmp, "--log-level", "WARNING"]  # fmt: skip
        if database_url:
            args += ["--database-url", database_url]
        if processes > 1:
            args += ["--processes", str(processes)]
        for spec in storage:
            args += ["--storage", spec]
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        try:
            yield line.rsplit(" ", 1)[1].strip(), process.pid
        finally:
            process.terminate()
            await process.wait()


Metadata = tuple[tuple[str, str], ...]


def video_flow_message() -> flows_pb2.Flow:
    """A new video Flow (1080p25 H.264 in MPEG-TS) with fresh ids, not yet created."""
    return flows_pb2.Flow(
        id=str(uuid.uuid4()), source_id=str(uuid.uuid4()), format="urn:x-nmos:format:video",
        codec="video/h264", container="video/mp2t",
        video=flows_pb2.VideoEssenceParameters(
            frame_width=1920, frame_height=1080, frame_rate=common_pb2.Rational(numerator=25)
        ),
    )  # fmt: skip


async def video_flow(channel: grpc.aio.Channel, metadata: Metadata = ()) -> str:
    """A new video Flow (container video/mp2t) for a benchmark's Segments; its id.
    ``metadata`` goes with the call (credentials, on a server that wants them)."""
    flow = video_flow_message()
    await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(
        flows_pb2.CreateFlowRequest(flow=flow), metadata=metadata
    )
    return flow.id


SEGMENT_NS = 1_920_000_000  # 1.92 s: 48 frames at 25 Hz


def external_posts(
    prefix: str, count: int, *, first: int = 0
) -> Iterator[segments_pb2.SegmentPost]:
    """Segments of external Objects (an uncontrolled URL each): no upload needed;
    ``count`` of them from the ``first``-th 1.92 s slot of the timeline on."""
    for i in range(first, first + count):
        start, end = i * SEGMENT_NS, (i + 1) * SEGMENT_NS
        object_id = f"{prefix}-{i:07d}"
        yield segments_pb2.SegmentPost(
            object_id=object_id,
            timerange=f"[{start // 10**9}:{start % 10**9}_{end // 10**9}:{end % 10**9})",
            get_urls=[
                segments_pb2.UncontrolledUrl(url=f"https://media.example/{object_id}", label="cdn")
            ],
        )


async def flow_with_segments(channel: grpc.aio.Channel, count: int, metadata: Metadata = ()) -> str:
    """A new video Flow with ``count`` Segments of external Objects; its id."""
    flow_id = await video_flow(channel, metadata)
    response = await segments_pb2_grpc.SegmentServiceStub(channel).RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=flow_id, segments=list(external_posts(f"gw-{uuid.uuid4().hex[:8]}", count))
        ),
        metadata=metadata,
    )
    assert response.registered_count == count, response.failed_segments[:2]
    return flow_id
