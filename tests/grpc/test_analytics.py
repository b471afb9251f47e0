"""AnalyticsService: flow usage, storage usage and time-range analysis, computed by
the database. The store is shared by the whole session, so totals are checked as the
change one test's writes make."""

from __future__ import annotations

import grpc
import pytest

from helpers.factories import new_id, video_flow
from helpers.objects import external_post, upload_objects
from helpers.status import failure
from tams.v1 import analytics_pb2, analytics_pb2_grpc, flows_pb2, flows_pb2_grpc, segments_pb2
from tams.v1 import segments_pb2_grpc as seg_grpc

Analytics = analytics_pb2_grpc.AnalyticsServiceStub


@pytest.fixture
def analytics(channel: grpc.aio.Channel) -> Analytics:
    return analytics_pb2_grpc.AnalyticsServiceStub(channel)


async def _flow(channel: grpc.aio.Channel, **fields: object) -> str:
    flow = video_flow(**fields)
    await flows_pb2_grpc.FlowServiceStub(channel).UpdateFlow(
        flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True)
    )
    return flow.id


async def _register(channel: grpc.aio.Channel, flow_id: str, *posts: object) -> None:
    response = await seg_grpc.SegmentServiceStub(channel).RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=posts)  # type: ignore[arg-type]
    )
    assert not response.failed_segments


async def test_flow_usage_counts_new_flows(channel: grpc.aio.Channel, analytics: Analytics) -> None:
    before = await analytics.GetFlowUsage(analytics_pb2.GetFlowUsageRequest())
    codec = f"video/test-{new_id()[:8]}"
    for _ in range(2):
        await _flow(channel, codec=codec)
    after = await analytics.GetFlowUsage(analytics_pb2.GetFlowUsageRequest())
    assert after.total_flows == before.total_flows + 2
    assert after.codec_distribution[codec] == 2
    video = "urn:x-nmos:format:video"
    assert after.format_distribution[video] == before.format_distribution[video] + 2
    assert after.resolution_distribution["1920x1080"] == (
        before.resolution_distribution["1920x1080"] + 2
    )
    assert after.created_last_30_days == before.created_last_30_days + 2


async def test_storage_usage_counts_uploaded_bytes_once(
    channel: grpc.aio.Channel, analytics: Analytics
) -> None:
    before = await analytics.GetStorageUsage(analytics_pb2.GetStorageUsageRequest(top_flows=1000))
    first, second = await _flow(channel), await _flow(channel)
    [shared, own] = await upload_objects(channel, first, 2, body=b"x" * 5000)
    await _register(
        channel, first,
        segments_pb2.SegmentPost(object_id=shared, timerange="[0:0_1:0)"),
        segments_pb2.SegmentPost(object_id=own, timerange="[1:0_2:0)"),
    )  # fmt: skip
    await _register(
        channel, second, segments_pb2.SegmentPost(object_id=shared, timerange="[0:0_1:0)")
    )
    await _register(channel, second, external_post(new_id(), "[1:0_2:0)"))
    after = await analytics.GetStorageUsage(analytics_pb2.GetStorageUsageRequest(top_flows=1000))
    assert after.total_objects == before.total_objects + 3
    assert after.unsized_objects == before.unsized_objects + 1  # the external one
    assert after.total_storage_bytes == before.total_storage_bytes + 10_000
    assert after.storage_by_flow[first] == 10_000
    assert after.storage_by_flow[second] == 5_000


async def test_time_range_analysis_of_one_flow(
    channel: grpc.aio.Channel, analytics: Analytics
) -> None:
    flow_id = await _flow(channel)
    posts = [
        external_post(new_id(), tr)
        for tr in ("[0:0_10:0)", "[10:0_20:0)", "[30:0_35:0)", "[100:0_190:0)")
    ]
    await _register(channel, flow_id, *posts)
    whole = await analytics.AnalyzeTimeRange(analytics_pb2.AnalyzeTimeRangeRequest(flow_id=flow_id))
    assert whole.timerange == "[0:0_190:0)"
    assert whole.total_segments == 4
    assert dict(whole.time_range_distribution) == {"0-10s": 1, "10-30s": 2, "30-60s": 0, "60s+": 1}
    assert whole.covered_duration == "115:0"
    assert whole.coverage == pytest.approx(115 / 190)
    assert list(whole.gaps) == ["[20:0_30:0)", "[35:0_100:0)"]
    assert whole.gap_count == 2
    assert whole.average_duration == "28:750000000"
    assert whole.duration_percentiles.p50 == "10:0"
    assert whole.duration_percentiles.p95 == "90:0"
    assert not whole.overlaps

    # A window cuts Segments at its edges; gaps at both ends count; max_gaps limits the list.
    part = await analytics.AnalyzeTimeRange(
        analytics_pb2.AnalyzeTimeRangeRequest(flow_id=flow_id, timerange="[-5:0_40:0)", max_gaps=2)
    )
    assert part.timerange == "[-5:0_40:0)"
    assert part.total_segments == 3
    assert part.covered_duration == "25:0"
    assert list(part.gaps) == ["[-5:0_0:0)", "[20:0_30:0)"]
    assert part.gap_count == 3


async def test_time_range_analysis_of_an_empty_flow(
    channel: grpc.aio.Channel, analytics: Analytics
) -> None:
    flow_id = await _flow(channel)
    empty = await analytics.AnalyzeTimeRange(analytics_pb2.AnalyzeTimeRangeRequest(flow_id=flow_id))
    assert empty.total_segments == 0
    assert empty.coverage == 0
    assert not empty.gaps
    asked = await analytics.AnalyzeTimeRange(
        analytics_pb2.AnalyzeTimeRangeRequest(flow_id=flow_id, timerange="[0:0_10:0)")
    )
    assert asked.coverage == 0
    assert list(asked.gaps) == ["[0:0_10:0)"]


async def test_time_range_analysis_refuses_bad_input(analytics: Analytics) -> None:
    bad_id = await failure(
        analytics.AnalyzeTimeRange(analytics_pb2.AnalyzeTimeRangeRequest(flow_id="nope"))
    )
    assert bad_id.code == grpc.StatusCode.INVALID_ARGUMENT
    unknown = await failure(
        analytics.AnalyzeTimeRange(analytics_pb2.AnalyzeTimeRangeRequest(flow_id=new_id()))
    )
    assert unknown.code == grpc.StatusCode.NOT_FOUND
    bad_range = await failure(
        analytics.AnalyzeTimeRange(analytics_pb2.AnalyzeTimeRangeRequest(timerange="yesterday"))
    )
    assert bad_range.code == grpc.StatusCode.INVALID_ARGUMENT
    negative = await failure(
        analytics.GetStorageUsage(analytics_pb2.GetStorageUsageRequest(top_flows=-1))
    )
    assert negative.code == grpc.StatusCode.INVALID_ARGUMENT
