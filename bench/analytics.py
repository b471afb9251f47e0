"""The analytics RPCs on one Flow of many Segments: AnalyzeTimeRange of its whole
timeline (durations, coverage, gaps and the time covered per hour of the day, each one
aggregate query over the Flow's Segments), and the store-wide GetFlowUsage and
GetStorageUsage. Medians of repeated calls, in milliseconds, and the analysis's cost
per Segment."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import grpc

from bench._common import external_posts, report, server, video_flow
from tams.v1 import analytics_pb2, analytics_pb2_grpc, segments_pb2, segments_pb2_grpc

BATCH = 5_000
REPEATS = 9


async def _median_ms(call: Callable[[], Awaitable[object]], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    total = 1_000 if tiny else 20_000 if quick else 200_000
    repeats = 3 if tiny else REPEATS
    engine = "postgresql" if database_url else "sqlite"
    async with (
        server(database_url) as running,
        grpc.aio.insecure_channel(running.grpc_target) as channel,
    ):
        flow_id = await video_flow(channel)
        segments = segments_pb2_grpc.SegmentServiceStub(channel)
        prefix = f"an-{uuid.uuid4().hex[:8]}"
        for first in range(0, total, BATCH):
            count = min(BATCH, total - first)
            # Every tenth slot left out: gaps to find.
            posts = [p for i, p in enumerate(external_posts(prefix, count, first=first)) if i % 10]
            response = await segments.RegisterSegments(
                segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=posts)
            )
            assert not response.failed_segments, response.failed_segments[:2]
        registered = total - total // 10
        analytics = analytics_pb2_grpc.AnalyticsServiceStub(channel)
        whole = analytics_pb2.AnalyzeTimeRangeRequest(flow_id=flow_id)
        answer = await analytics.AnalyzeTimeRange(whole)
        assert answer.total_segments == registered, answer.total_segments
        assert len(answer.hourly_distribution) >= 1
        analysis = await _median_ms(lambda: analytics.AnalyzeTimeRange(whole), repeats)
        report("analyze_time_range_ms", analysis, "ms", segments=registered, engine=engine)
        report(
            "analyze_time_range_us_per_segment", analysis * 1000 / registered, "us",
            segments=registered, engine=engine,
        )  # fmt: skip
        flow_usage = await _median_ms(
            lambda: analytics.GetFlowUsage(analytics_pb2.GetFlowUsageRequest()), repeats
        )
        report("flow_usage_ms", flow_usage, "ms", engine=engine)
        storage_usage = await _median_ms(
            lambda: analytics.GetStorageUsage(analytics_pb2.GetStorageUsageRequest()), repeats
        )
        report("storage_usage_ms", storage_usage, "ms", segments=registered, engine=engine)
