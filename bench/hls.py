"""HLS playlists of a long Flow: ``GET /hls/flows/{id}/index.m3u8`` on a Flow of
100,000 Segments (1.92 s each, about 53 hours; one external URL each), the server in its
own process, sequential requests on one keep-alive connection, interleaved:

- ``window_start`` / ``window_end``: a VOD window of one minute (``?timerange=``, 32
  Segments) at the start and at the end of the Flow: the same cost wherever it lies;
- ``live``: the live window (``?live=true``, the newest 10 Segments);
- ``page``: the VOD playlist without a timerange, one listing page (1,000 Segments, the
  most one playlist reads).

Each playlist is two calls (GetFlow, one ListSegments page): never the whole Flow.
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from contextlib import AsyncExitStack

import grpc

from bench._common import external_posts, report, server_process, video_flow
from bench._measure import Call, Http, Target, http_base_url, latency, percentile
from tams.v1 import segments_pb2, segments_pb2_grpc

SEGMENTS = 100_000
BATCH = 10_000
SEGMENT_S = 1.92
WINDOW_S = 60


def _timerange(start_s: float, seconds: float) -> str:
    start_ns, end_ns = round(start_s * 1e9), round((start_s + seconds) * 1e9)
    return f"[{start_ns // 10**9}:{start_ns % 10**9}_{end_ns // 10**9}:{end_ns % 10**9})"


def _target(name: str, base_url: str, path: str, expect: int) -> Target:
    async def connect(stack: AsyncExitStack) -> Call:
        connection = [await Http.connect(base_url)]

        async def close() -> None:
            await connection[0].close()

        stack.push_async_callback(close)
        body = (await connection[0].get(path)).decode()
        found = sum(1 for line in body.splitlines() if line.startswith("#EXTINF"))
        assert found == expect, (name, found, body[:300])

        async def call() -> None:
            try:
                await connection[0].get(path)
            except (asyncio.IncompleteReadError, ConnectionResetError):
                # The server closes a connection idle for 5 s (uvicorn's keep-alive),
                # as while the other targets' first playlists of a cold 100,000-Segment
                # Flow load on a busy machine: connect again (in the warm-up).
                await connection[0].close()
                connection[0] = await Http.connect(base_url)
                await connection[0].get(path)

        return call

    return Target(name, connect)


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    count = 2_000 if tiny else 20_000 if quick else SEGMENTS
    repeats = 5 if tiny else 30 if quick else 200
    engine = "postgresql" if database_url else "sqlite"
    async with (
        server_process(database_url) as (target, pid),
        grpc.aio.insecure_channel(target) as channel,
    ):
        flow_id = await video_flow(channel)
        stub = segments_pb2_grpc.SegmentServiceStub(channel)
        prefix = f"hls-{uuid.uuid4().hex[:8]}"
        for first in range(0, count, BATCH):
            done = await stub.RegisterSegments(
                segments_pb2.RegisterSegmentsRequest(
                    flow_id=flow_id,
                    segments=list(external_posts(prefix, min(BATCH, count - first), first=first)),
                )
            )
            assert not done.failed_segments, done.failed_segments[:2]
        base = http_base_url(pid, target)
        path = f"/hls/flows/{flow_id}/index.m3u8"
        window = round(WINDOW_S / SEGMENT_S) + 1  # a minute overlaps 32 Segments here
        last_start = (count - window) * SEGMENT_S
        targets = [
            _target("window_start", base, f"{path}?timerange={_timerange(0, WINDOW_S)}", 32),
            _target(
                "window_end", base, f"{path}?timerange={_timerange(last_start, WINDOW_S)}", window
            ),
            _target("live", base, f"{path}?live=true", 10),
            _target("page", base, path, min(count, 1000)),
        ]
        times = await latency(targets, repeats)
        for name, samples in times.items():
            extra = {"segments_in_flow": count, "repeats": repeats, "engine": engine}
            report(f"hls_{name}_median_ms", statistics.median(samples) * 1000, "ms", **extra)
            report(f"hls_{name}_p90_ms", percentile(samples, 0.9) * 1000, "ms", **extra)
        start, end = (statistics.median(times[n]) for n in ("window_start", "window_end"))
        report("hls_window_end_over_start", end / start, "ratio", engine=engine, target="~1")
