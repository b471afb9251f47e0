"""Registration of Segments whose Objects were allocated and uploaded (issue 15: the
registration targets hold "both for external Objects and for allocated, uploaded
Objects"; ``bench.segments`` measures the external ones).

The server runs in its own process on the local backend (the default). N Objects are
allocated through ``AllocateStorage`` in batches and a few bytes PUT to each presigned
URL (bounded concurrency; not timed), then N Segments referencing them are registered
through ``StreamRegisterSegments``, 1,000 a message: that is timed, and the server's CPU
per Segment reported. Each registration is the first sight of its Objects' bytes, so
the server checks every Object with its backend. The same number of external Segments
is then registered on another Flow of the same server, for the ratio under the same
load.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence

import grpc
import httpx

from bench._common import SEGMENT_NS, external_posts, report, server_process, video_flow
from bench._measure import cpu_s
from tams.v1 import segments_pb2, storage_pb2, storage_pb2_grpc
from tams_client import AsyncTamsClient

ALLOCATE_BATCH = 10_000  # the most one AllocateStorage call gives
UPLOAD_CONCURRENCY = 32
REGISTER_BATCH = 1_000
TARGET = ">= 20000 sqlite, >= 10000 postgresql"


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    total = 2_000 if tiny else 20_000 if quick else 100_000
    engine = "postgresql" if database_url else "sqlite"
    async with (
        server_process(database_url) as (target, pid),
        grpc.aio.insecure_channel(target) as channel,
        AsyncTamsClient(target, timeout=None) as tams,
    ):
        flow_id = await video_flow(channel)
        t0 = time.perf_counter()
        object_ids = await allocate_and_upload(channel, flow_id, total)
        setup = total / (time.perf_counter() - t0)
        report("objects_allocated_and_uploaded_per_s", setup, "objects/s", engine=engine,
               objects=total, note="setup, not the measure")  # fmt: skip

        rate, cpu = await _timed(tams, pid, flow_id, uploaded_posts(object_ids))
        report("segments_registered_allocated_per_s", rate, "segments/s", engine=engine,
               segments=total, batch=REGISTER_BATCH, backend="local", target=TARGET)  # fmt: skip
        report("server_cpu_us_per_allocated_segment", cpu * 1e6, "us", engine=engine)

        external_flow = await video_flow(channel)
        external, external_cpu = await _timed(
            tams, pid, external_flow, list(external_posts("ext", total))
        )
        report("segments_registered_external_per_s", external, "segments/s", engine=engine,
               segments=total, note="same server, right after")  # fmt: skip
        report("server_cpu_us_per_external_segment", external_cpu * 1e6, "us", engine=engine)
        report("allocated_over_external", rate / external, "ratio", engine=engine)


async def _timed(
    tams: AsyncTamsClient, pid: int, flow_id: str, posts: Sequence[segments_pb2.SegmentPost]
) -> tuple[float, float]:
    """Register ``posts`` on ``flow_id`` in one stream: Segments a second, and server
    CPU seconds a Segment."""
    cpu_before, t0 = cpu_s(pid), time.perf_counter()
    result = await tams.stream_register_segments(flow_id, posts, batch_size=REGISTER_BATCH)
    elapsed, cpu = time.perf_counter() - t0, cpu_s(pid) - cpu_before
    assert result.registered_count == len(posts), result.failed_segments[:3]
    return len(posts) / elapsed, cpu / len(posts)


def uploaded_posts(object_ids: Sequence[str]) -> list[segments_pb2.SegmentPost]:
    """One Segment per Object, one after another on the timeline (built before the
    clock starts)."""
    return [
        segments_pb2.SegmentPost(object_id=object_id, timerange=timerange)
        for object_id, timerange in zip(object_ids, _timeranges(len(object_ids)), strict=True)
    ]


def _timeranges(count: int) -> Iterator[str]:
    for i in range(count):
        start, end = i * SEGMENT_NS, (i + 1) * SEGMENT_NS
        yield f"[{start // 10**9}:{start % 10**9}_{end // 10**9}:{end % 10**9})"


async def allocate_and_upload(channel: grpc.aio.Channel, flow_id: str, count: int) -> list[str]:
    """Allocate ``count`` Objects on ``flow_id`` (AllocateStorage, up to its limit a
    call) and PUT a TS packet's worth of bytes to each presigned URL, a bounded number
    at a time; the ids, in allocation order."""
    stub = storage_pb2_grpc.StorageServiceStub(channel)
    allocated: list[storage_pb2.AllocatedObject] = []
    while len(allocated) < count:
        call = stub.AllocateStorage(
            storage_pb2.AllocateStorageRequest(
                flow_id=flow_id, limit=min(ALLOCATE_BATCH, count - len(allocated))
            )
        )
        async for message in call:
            allocated += message.media_objects
    limit = asyncio.Semaphore(UPLOAD_CONCURRENCY)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=UPLOAD_CONCURRENCY)) as http:

        async def put(url: str) -> None:
            async with limit:
                for attempt in range(3):  # a kept-alive connection the server just closed
                    try:
                        (await http.put(url, content=b"\x47" * 188)).raise_for_status()
                        return
                    except httpx.TransportError:
                        if attempt == 2:
                            raise

        await asyncio.gather(*(put(item.put_url.url) for item in allocated))
    return [item.object_id for item in allocated]
