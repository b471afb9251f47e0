"""AnalyticsService figures to the exact value, on both engines: a store of known
content (``helpers/analytics_store``) on an empty database, read by a caller who may
read everything, and by callers restricted by ``auth_classes``."""

from __future__ import annotations

import pytest

from helpers.analytics_store import ADMIN, AUDIO, NEWS, SPORT, VIDEO, KnownStore, day, known_store
from helpers.servers import module_fixture
from tams.v1 import analytics_pb2 as pb
from tams.v1 import analytics_pb2_grpc

Metadata = tuple[tuple[str, str], ...]


store = module_fixture(known_store, "analytics")


def analytics(store: KnownStore) -> analytics_pb2_grpc.AnalyticsServiceStub:
    return analytics_pb2_grpc.AnalyticsServiceStub(store.server.channel)


async def test_flow_usage_counts_live_deleted_and_per_source(store: KnownStore) -> None:
    s = store.sources
    usage = await analytics(store).GetFlowUsage(pb.GetFlowUsageRequest(), metadata=ADMIN)
    assert (usage.total_flows, usage.deleted_flows) == (5, 1)
    assert dict(usage.format_distribution) == {VIDEO: 4, AUDIO: 1}
    assert dict(usage.source_distribution) == {s["S1"]: 2, s["S2"]: 1, s["S3"]: 1, s["S4"]: 1}
    assert dict(usage.codec_distribution) == {"video/h264": 4, "audio/aac": 1}
    assert usage.created_last_30_days == 5


@pytest.mark.parametrize(
    ("who", "live", "deleted", "sources"),
    [(NEWS, 4, 1, ("S2", "S3", "S4", "S1")), (SPORT, 3, 0, ("S1", "S3", "S4"))],
)
async def test_flow_usage_counts_only_readable_flows(
    store: KnownStore, who: Metadata, live: int, deleted: int, sources: tuple[str, ...]
) -> None:
    usage = await analytics(store).GetFlowUsage(pb.GetFlowUsageRequest(), metadata=who)
    assert (usage.total_flows, usage.deleted_flows) == (live, deleted)
    assert sum(usage.source_distribution.values()) == live
    assert set(usage.source_distribution) == {store.sources[name] for name in sources}


async def test_storage_usage_by_flow_and_month(store: KnownStore) -> None:
    f = store.flows
    usage = await analytics(store).GetStorageUsage(pb.GetStorageUsageRequest(), metadata=ADMIN)
    assert (usage.total_objects, usage.unsized_objects) == (6, 3)
    assert usage.total_storage_bytes == 10_000
    assert dict(usage.objects_by_flow) == {f["A"]: 3, f["C"]: 2, f["E"]: 1, f["F"]: 1}
    assert dict(usage.storage_by_flow) == {f["A"]: 8000, f["C"]: 7000}
    assert dict(usage.storage_by_format) == {VIDEO: 8000, AUDIO: 7000}
    # o1 in November; o2 at the first instant of December, o3 at its last.
    assert dict(usage.storage_by_month) == {"2024-11": 5000, "2024-12": 5000}
    top = await analytics(store).GetStorageUsage(
        pb.GetStorageUsageRequest(top_flows=1), metadata=ADMIN
    )
    assert dict(top.objects_by_flow) == {f["A"]: 3}


async def test_storage_usage_counts_only_readable_flows(store: KnownStore) -> None:
    f = store.flows
    sport = await analytics(store).GetStorageUsage(pb.GetStorageUsageRequest(), metadata=SPORT)
    assert (sport.total_objects, sport.total_storage_bytes) == (2, 0)
    assert dict(sport.objects_by_flow) == {f["E"]: 1, f["F"]: 1}
    assert dict(sport.storage_by_month) == {}
    news = await analytics(store).GetStorageUsage(pb.GetStorageUsageRequest(), metadata=NEWS)
    assert dict(news.storage_by_month) == {"2024-11": 5000, "2024-12": 5000}


async def _analysis(
    store: KnownStore, flow: str, timerange: str = ""
) -> pb.AnalyzeTimeRangeResponse:
    request = pb.AnalyzeTimeRangeRequest(flow_id=store.flows[flow], timerange=timerange)
    return await analytics(store).AnalyzeTimeRange(request, metadata=ADMIN)


async def test_time_range_analysis_hours_of_a_flow(store: KnownStore) -> None:
    whole = await _analysis(store, "A")
    assert whole.total_segments == 3
    assert whole.covered_duration == "430:0"
    assert whole.coverage == pytest.approx(430 / 3030)
    assert whole.gap_count == 2
    # 90 s and 10 s in hour 10; the last Segment 60 s in hour 10, 270 s in hour 11.
    assert dict(whole.hourly_distribution) == {"10": "160:0", "11": "270:0"}
    part = await _analysis(store, "A", f"[{day('10:15:00')}_{day('11:00:00')})")
    assert part.covered_duration == "100:0"
    assert dict(part.hourly_distribution) == {"10": "100:0"}


async def test_time_range_analysis_hours_over_days_and_before_1970(store: KnownStore) -> None:
    days = await _analysis(store, "E")  # 22:30 on the 20th to 01:15 on the 23rd
    expected = {f"{hour:02d}": "7200:0" for hour in range(2, 22)}
    expected |= {"22": "9000:0", "23": "10800:0", "00": "10800:0", "01": "8100:0"}
    assert dict(days.hourly_distribution) == expected
    assert days.covered_duration == "182700:0"
    # TAI -3600 s is 1969-12-31T22:59:50Z (TAI - UTC was 10 s then).
    early = await _analysis(store, "F")
    assert dict(early.hourly_distribution) == {"22": "10:0", "23": "1790:0"}


async def test_time_range_analysis_of_a_flow_without_segments(store: KnownStore) -> None:
    empty = await _analysis(store, "B", f"[{day('10:00:00')}_{day('11:00:00')})")
    assert dict(empty.hourly_distribution) == {}
    assert list(empty.gaps) == ["[1734688837:0_1734692437:0)"]
    everything = await analytics(store).AnalyzeTimeRange(
        pb.AnalyzeTimeRangeRequest(), metadata=ADMIN
    )
    assert everything.total_segments == 7
    assert dict(everything.hourly_distribution) == {}  # with a Flow only
