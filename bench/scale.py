"""The store at scale: one Flow of 10,000,000 Segments, and 10,000 Flows of 1,000.

(a) One long Flow (1,000,000 Segments with --quick):

- registration through the client-streaming RPC in the real client's batches, in
  chunks with progress on stderr; the rate over the whole load and over its first and
  last tenth (does registration slow down as the Flow grows?);
- a 1,000-Segment page by timerange at the end of the timeline (median, p95) against
  the same at its start, interleaved: their ratio should stay near 1;
- what the database takes on disk per Segment (PostgreSQL: each table with its
  indexes, and the whole database; SQLite: the file).

(b) Many Flows (1,000 with --quick), each with 1,000 Segments on its own stretch of
a shared timeline, tagged, each of its own Source tagged alike: first pages of
ListFlows filtered by timerange, by tags and by both, and of ListSources by tags
(median, p95, interleaved).

``--part long`` or ``--part flows`` runs only (a) or (b).

The server runs in its own process; PostgreSQL with ``--database-url`` (give it a
fresh database: the figures assume nothing else is stored), else SQLite in a temp
folder.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import grpc

from bench import _dbsize
from bench._common import SEGMENT_NS, external_posts, report, server_process, video_flow_message
from bench._measure import cpu_s, percentile
from tams.v1 import (
    common_pb2,
    flows_pb2,
    flows_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    sources_pb2,
    sources_pb2_grpc,
)
from tams_client import AsyncTamsClient

WINDOW = 1_000
PAGE = 100
# Slots (1.92 s each) between the starts of consecutive Flows in part (b): each Flow's
# 1,000 Segments overlap those of the next nine.
FLOW_STRIDE = 100
# The real client's batch size for streamed registration (AsyncTamsClient's default).
CLIENT_BATCH = 500
# Concurrent RegisterSegments calls while filling part (b).
FILLERS = 4
# What ``--part`` may pick: (a) and (b) below.
PARTS = ("long", "flows")


@dataclass(frozen=True)
class Size:
    segments: int  # in the long Flow of part (a)
    chunk: int  # Segments per streamed call (a progress line each)
    flows: int  # in part (b)
    per_flow: int  # Segments of each of them
    repeats: int  # of each timed query


FULL = Size(segments=10_000_000, chunk=250_000, flows=10_000, per_flow=1_000, repeats=50)
QUICK = Size(segments=1_000_000, chunk=50_000, flows=1_000, per_flow=1_000, repeats=30)
TINY = Size(segments=4_000, chunk=1_000, flows=20, per_flow=100, repeats=5)


def _span(first: int, count: int) -> str:
    """The timerange of ``count`` 1.92 s slots from the ``first``-th on."""
    start, end = first * SEGMENT_NS, (first + count) * SEGMENT_NS
    return f"[{start // 10**9}:{start % 10**9}_{end // 10**9}:{end % 10**9})"


def _progress(text: str) -> None:
    print(f"bench scale: {text}", file=sys.stderr, flush=True)


def _ms(samples: list[float], fraction: float) -> float:
    return percentile(samples, fraction) * 1e3


async def run(
    *, quick: bool, database_url: str | None, tiny: bool = False, part: str | None = None
) -> None:
    if part not in (None, *PARTS):
        raise SystemExit(f"bench scale: --part is one of {', '.join(PARTS)}, not {part!r}")
    size = TINY if tiny else QUICK if quick else FULL
    engine = "postgresql" if database_url else "sqlite"
    with tempfile.TemporaryDirectory(prefix="tams-bench-scale-") as tmp:
        sqlite_file = Path(tmp) / "tams.db"
        url = database_url or f"sqlite+aiosqlite:///{sqlite_file}"
        async with server_process(url) as (target, pid):
            if part in (None, "long"):
                await _long_flow(target, pid, size, engine)
                await _disk(database_url, sqlite_file, size.segments, engine)
            if part in (None, "flows"):
                await _many_flows(target, size, engine)


async def _long_flow(target: str, pid: int, size: Size, engine: str) -> None:
    """Part (a): register the long Flow in chunks, then time windows at both ends.
    The server's CPU per Segment (its own process; the database's is not counted)
    tells a slowdown of the server from one of a busier machine."""
    async with AsyncTamsClient(target, timeout=None) as tams:
        flow = video_flow_message()
        await tams.create_flow(flow)
        prefix = f"scale-{uuid.uuid4().hex[:8]}"
        chunk_s: list[float] = []
        chunk_cpu: list[float] = []
        started = time.perf_counter()
        for first in range(0, size.segments, size.chunk):
            count = min(size.chunk, size.segments - first)
            t0, cpu0 = time.perf_counter(), cpu_s(pid)
            result = await tams.stream_register_segments(
                flow.id, external_posts(prefix, count, first=first), batch_size=CLIENT_BATCH
            )
            chunk_s.append(time.perf_counter() - t0)
            chunk_cpu.append(cpu_s(pid) - cpu0)
            assert result.registered_count == count, result.failed_segments[:3]
            done = first + count
            _progress(
                f"{done:,}/{size.segments:,} segments, {count / chunk_s[-1]:,.0f}/s now "
                f"({chunk_cpu[-1] / count * 1e6:.0f} us server CPU each), "
                f"{time.perf_counter() - started:,.0f} s so far"
            )
        elapsed = time.perf_counter() - started
    report("scale_registered_per_s", size.segments / elapsed, "segments/s", engine=engine,
           segments=size.segments, batch=CLIENT_BATCH, seconds=round(elapsed, 1))  # fmt: skip
    tenth = max(1, len(chunk_s) // 10)
    tenth_segments = tenth * size.chunk
    first_cpu, last_cpu = sum(chunk_cpu[:tenth]), sum(chunk_cpu[-tenth:])
    report("scale_registered_first_tenth_per_s", tenth_segments / sum(chunk_s[:tenth]),
           "segments/s", engine=engine, segments=tenth_segments,
           server_cpu_us_per_segment=round(first_cpu / tenth_segments * 1e6, 1))  # fmt: skip
    report("scale_registered_last_tenth_per_s", tenth_segments / sum(chunk_s[-tenth:]),
           "segments/s", engine=engine, segments=tenth_segments,
           server_cpu_us_per_segment=round(last_cpu / tenth_segments * 1e6, 1))  # fmt: skip
    report("scale_server_cpu_last_over_first_tenth", last_cpu / first_cpu, "ratio",
           engine=engine, target="<= 1.2")  # fmt: skip
    report("scale_registered_last_over_first_tenth", sum(chunk_s[:tenth]) / sum(chunk_s[-tenth:]),
           "ratio", engine=engine, target=">= 0.8")  # fmt: skip

    async with grpc.aio.insecure_channel(target) as channel:
        stub = segments_pb2_grpc.SegmentServiceStub(channel)

        async def window(first: int) -> float:
            request = segments_pb2.ListSegmentsRequest(
                flow_id=flow.id, timerange=_span(first, WINDOW), page_size=WINDOW
            )
            t0 = time.perf_counter()
            page = await stub.ListSegments(request)
            took = time.perf_counter() - t0
            assert len(page.segments) == WINDOW, len(page.segments)
            return took

        for _ in range(3):  # warm-up
            await window(0)
            await window(size.segments - WINDOW)
        starts, ends = [], []
        for _ in range(size.repeats):
            starts.append(await window(0))
            ends.append(await window(size.segments - WINDOW))
    report("scale_window_1000_at_end_ms", _ms(ends, 0.5), "ms", engine=engine,
           p95_ms=round(_ms(ends, 0.95), 3), segments=size.segments)  # fmt: skip
    report("scale_window_1000_at_start_ms", _ms(starts, 0.5), "ms", engine=engine,
           p95_ms=round(_ms(starts, 0.95), 3))  # fmt: skip
    report("scale_window_end_over_start", _ms(ends, 0.5) / _ms(starts, 0.5), "ratio",
           engine=engine, target="<= 1.5")  # fmt: skip


async def _disk(database_url: str | None, sqlite_file: Path, segments: int, engine: str) -> None:
    """Bytes on disk per Segment of the long Flow (the only Segments stored yet)."""
    if database_url is None:
        total = _dbsize.sqlite_size(sqlite_file)
        report("scale_database_bytes_per_segment", total / segments, "bytes", engine=engine,
               database_mb=round(total / 2**20, 1))  # fmt: skip
        return
    tables, total = await _dbsize.postgresql_sizes(database_url)
    # The tables that grew with the Segments: those holding a noticeable share.
    large = {name: size for name, size in tables.items() if size > total // 100}
    report("scale_database_bytes_per_segment", total / segments, "bytes", engine=engine,
           database_mb=round(total / 2**20, 1))  # fmt: skip
    report("scale_tables_bytes_per_segment", sum(large.values()) / segments, "bytes",
           engine=engine,
           tables={name: round(size / segments, 1) for name, size in large.items()})  # fmt: skip


def _tagged_flow(index: int) -> tuple[sources_pb2.Source, flows_pb2.Flow]:
    """Flow ``index`` of part (b) and its Source, tagged alike: one of ten sites, one
    of a hundred shows, and one in a hundred marked ``archive``."""
    flow = video_flow_message()
    source = sources_pb2.Source(id=flow.source_id, format=flow.format)
    for tags in (flow.tags, source.tags):
        tags["site"].string_value = f"site-{index % 10}"
        tags["show"].string_value = f"show-{index % 100}"
        if index % 100 == 0:
            tags["archive"].string_value = "yes"
    return source, flow


def _tag(name: str, value: str | None = None) -> common_pb2.TagFilter:
    if value is None:
        return common_pb2.TagFilter(name=name, exists=True)
    return common_pb2.TagFilter(name=name, values=[value])


async def _many_flows(target: str, size: Size, engine: str) -> None:
    """Part (b): create and fill the Flows, then time filtered first pages."""
    async with grpc.aio.insecure_channel(target) as channel:
        flows = flows_pb2_grpc.FlowServiceStub(channel)
        sources = sources_pb2_grpc.SourceServiceStub(channel)
        segments = segments_pb2_grpc.SegmentServiceStub(channel)
        ids: list[str] = []
        started = time.perf_counter()
        for first in range(0, size.flows, 1000):
            batch = [_tagged_flow(i) for i in range(first, min(first + 1000, size.flows))]
            await sources.BatchCreateSources(
                sources_pb2.BatchCreateSourcesRequest(sources=[source for source, _ in batch])
            )
            await flows.BatchCreateFlows(
                flows_pb2.BatchCreateFlowsRequest(flows=[flow for _, flow in batch])
            )
            ids += [flow.id for _, flow in batch]
        report("scale_flows_created_per_s", size.flows / (time.perf_counter() - started),
               "flows/s", engine=engine, flows=size.flows)  # fmt: skip

        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(size.flows):
            queue.put_nowait(index)
        step = max(1, size.flows // 10)

        async def filler() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                posts = external_posts(f"f{index}", size.per_flow, first=index * FLOW_STRIDE)
                response = await segments.RegisterSegments(
                    segments_pb2.RegisterSegmentsRequest(flow_id=ids[index], segments=posts)
                )
                assert response.registered_count == size.per_flow, response.failed_segments[:2]
                if (index + 1) % step == 0:
                    _progress(f"{index + 1:,}/{size.flows:,} flows filled")

        started = time.perf_counter()
        await asyncio.gather(*(filler() for _ in range(FILLERS)))
        elapsed = time.perf_counter() - started
        report("scale_flow_segments_registered_per_s", size.flows * size.per_flow / elapsed,
               "segments/s", engine=engine, flows=size.flows, per_flow=size.per_flow,
               concurrent_calls=FILLERS)  # fmt: skip

        middle = size.flows // 2 * FLOW_STRIDE
        timeline = (size.flows - 1) * FLOW_STRIDE + size.per_flow
        queries = {
            "none": flows_pb2.FlowFilter(),
            "timerange_narrow": flows_pb2.FlowFilter(timerange=_span(middle, 10)),
            "timerange_half": flows_pb2.FlowFilter(timerange=_span(timeline // 4, timeline // 2)),
            "tag_site": flows_pb2.FlowFilter(tags=[_tag("site", "site-3")]),
            "tag_show": flows_pb2.FlowFilter(tags=[_tag("show", "show-42")]),
            "tag_exists_archive": flows_pb2.FlowFilter(tags=[_tag("archive")]),
            "tag_site_and_show": flows_pb2.FlowFilter(
                tags=[_tag("site", "site-2"), _tag("show", "show-42")]
            ),
            "timerange_half_and_tag_show": flows_pb2.FlowFilter(
                timerange=_span(timeline // 4, timeline // 2), tags=[_tag("show", "show-42")]
            ),
        }
        source_queries = {
            "tag_show": sources_pb2.SourceFilter(tags=[_tag("show", "show-42")]),
            "tag_site_and_show": sources_pb2.SourceFilter(
                tags=[_tag("site", "site-2"), _tag("show", "show-42")]
            ),
        }

        async def list_flows(query: flows_pb2.FlowFilter) -> int:
            request = flows_pb2.ListFlowsRequest(page_size=PAGE, filter=query)
            return len((await flows.ListFlows(request)).flows)

        async def list_sources(query: sources_pb2.SourceFilter) -> int:
            request = sources_pb2.ListSourcesRequest(page_size=PAGE, filter=query)
            return len((await sources.ListSources(request)).sources)

        listings = {
            **{f"flows_{name}": partial(list_flows, query) for name, query in queries.items()},
            **{
                f"sources_{name}": partial(list_sources, query)
                for name, query in source_queries.items()
            },
        }
        times: dict[str, list[float]] = {name: [] for name in listings}
        found: dict[str, int] = {}
        for round_ in range(size.repeats + 2):  # the first two rounds warm up
            for name, listing in listings.items():
                t0 = time.perf_counter()
                found[name] = await listing()
                took = time.perf_counter() - t0
                if round_ >= 2:
                    times[name].append(took)
    for name, samples in times.items():
        report(f"scale_list_{name}_ms", _ms(samples, 0.5), "ms", engine=engine,
               p95_ms=round(_ms(samples, 0.95), 3), flows=size.flows, page_size=PAGE,
               first_page_count=found[name])  # fmt: skip
