"""Segment registration for tests that look at the whole response."""

from __future__ import annotations

from tams.v1 import segments_pb2, segments_pb2_grpc


async def register(
    stub: segments_pb2_grpc.SegmentServiceStub, flow_id: str, *posts: segments_pb2.SegmentPost
) -> segments_pb2.RegisterSegmentsResponse:
    """Register ``posts`` on the Flow in one call; the response, failures included."""
    return await stub.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=posts)
    )
