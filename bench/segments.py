"""Segments at scale: one Flow of 1,000,000 Segments (100,000 with --quick).

- registration through the client-streaming RPC, overlap enforcement on;
- a window query of 1,000 Segments at the end of the Flow against the same at its
  start (medians of interleaved repeats; keyset + bounded scan keeps them equal);
- streaming every Segment through ``AsyncTamsClient.list_segments``, and how much the
  server's resident memory grows meanwhile (the server runs in its own process), also
  as a ratio to the machine's ceiling (``bench.ceiling``, measured afterwards).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc

from bench._common import report, server_process
from bench.ceiling import ceiling
from tams.v1 import common_pb2, flows_pb2, objects_pb2, segments_pb2, segments_pb2_grpc
from tams_client import AsyncTamsClient

WINDOW = 1_000
REPEATS = 20
SEGMENT_NS = 1_920_000_000  # 1.92 s: 48 frames at 25 Hz


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _timerange(i: int) -> str:
    start, end = i * SEGMENT_NS, (i + 1) * SEGMENT_NS
    return f"[{start // 10**9}:{start % 10**9}_{end // 10**9}:{end % 10**9})"


def _posts(total: int) -> Iterator[segments_pb2.SegmentPost]:
    """Segments of external Objects (an uncontrolled URL each, TAMS ADR 0030): the
    Objects are recorded as they are registered, no upload needed."""
    for i in range(total):
        object_id = f"obj-{i:07d}"
        yield segments_pb2.SegmentPost(
            object_id=object_id,
            timerange=_timerange(i),
            get_urls=[
                segments_pb2.UncontrolledUrl(url=f"https://media.example/{object_id}", label="cdn")
            ],
        )


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    total = 2 * WINDOW if tiny else 100_000 if quick else 1_000_000
    engine = "postgresql" if database_url else "sqlite"
    async with (
        server_process(database_url) as (target, pid),
        AsyncTamsClient(target, timeout=None) as tams,
    ):
        flow = flows_pb2.Flow(
            id=str(uuid.uuid4()), source_id=str(uuid.uuid4()),
            format="urn:x-nmos:format:video", codec="video/h264", container="video/mp2t",
            video=flows_pb2.VideoEssenceParameters(
                frame_width=1920, frame_height=1080,
                frame_rate=common_pb2.Rational(numerator=25),
            ),
        )  # fmt: skip
        await tams.create_flow(flow)
        t0 = time.perf_counter()
        result = await tams.stream_register_segments(flow.id, _posts(total), batch_size=1000)
        elapsed = time.perf_counter() - t0
        assert result.registered_count == total, result.failed_segments[:3]
        report("segments_registered_per_s", total / elapsed, "segments/s", engine=engine,
               segments=total, target=">= 20000 sqlite, >= 10000 postgresql")  # fmt: skip

        async def window(first: int) -> float:
            start, end = first * SEGMENT_NS, (first + WINDOW) * SEGMENT_NS
            span = f"[{start // 10**9}:{start % 10**9}_{end // 10**9}:{end % 10**9})"
            t = time.perf_counter()
            page = await unary.ListSegments(
                segments_pb2.ListSegmentsRequest(flow_id=flow.id, timerange=span, page_size=WINDOW)
            )
            took = time.perf_counter() - t
            assert len(page.segments) == WINDOW, len(page.segments)
            return took

        channel = grpc.aio.insecure_channel(target)
        unary = segments_pb2_grpc.SegmentServiceStub(channel)
        starts, ends = [], []
        for _ in range(REPEATS):
            starts.append(await window(0))
            ends.append(await window(total - WINDOW))
        await channel.close()
        at_start, at_end = statistics.median(starts), statistics.median(ends)
        report("window_1000_at_start_ms", at_start * 1000, "ms", engine=engine)
        report("window_1000_at_end_ms", at_end * 1000, "ms", engine=engine)
        report("window_end_over_start", at_end / at_start, "ratio", engine=engine,
               target="<= 1.5")  # fmt: skip

        rss_before = _rss_kb(pid)
        peak = rss_before
        count = 0
        t0 = time.perf_counter()
        async for _segment in tams.list_segments(flow.id):
            count += 1
            if count % 50_000 == 0:
                peak = max(peak, _rss_kb(pid))
        elapsed = time.perf_counter() - t0
        peak = max(peak, _rss_kb(pid))
        assert count == total, count
        with_urls = total / elapsed
        report("stream_segments_per_s", with_urls, "segments/s", engine=engine,
               target=">= 100000", get_urls="one uncontrolled URL per segment")  # fmt: skip
        # The same stream without download URLs (TAMS accept_get_urls=): the shape of
        # the listing before Objects carried URLs.
        t0 = time.perf_counter()
        bare = objects_pb2.GetUrlOptions(accept_get_urls_set=True)
        count = 0
        async for _segment in tams.list_segments(flow.id, get_url_options=bare):
            count += 1
        elapsed = time.perf_counter() - t0
        assert count == total, count
        without_urls = total / elapsed
        report("stream_segments_without_urls_per_s", without_urls, "segments/s",
               engine=engine, target=">= 150000")  # fmt: skip
        report("server_rss_growth_while_streaming_mb", (peak - rss_before) / 1024, "MB",
               engine=engine, rss_before_mb=round(rss_before / 1024, 1), target="< 50")  # fmt: skip
        # The same streams' share of the machine's ceiling (bench.ceiling: prebuilt
        # pages, no database), measured now, under the same load.
        rates = await ceiling(total)
        report("stream_over_ceiling", with_urls / rates["with_urls"], "ratio", engine=engine,
               ceiling=round(rates["with_urls"]), get_urls="one uncontrolled URL")  # fmt: skip
        report("stream_without_urls_over_ceiling", without_urls / rates["without_urls"],
               "ratio", engine=engine, ceiling=round(rates["without_urls"]))  # fmt: skip
