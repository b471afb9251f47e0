"""Objects allocated by their first Segment (the usage guide's registration before
upload, ``allocate_unknown_objects``), and the upload URL issued again for them
(``reissue_pending``). Without those flags nothing changes (the spec's rules:
OBJECT_UNKNOWN, OBJECT_IDS_TAKEN)."""

from __future__ import annotations

import grpc
import httpx

from helpers.factories import new_id
from helpers.objects import allocate, new_flow
from helpers.status import failure
from tams.v1 import (
    flows_pb2_grpc,
    objects_pb2,
    objects_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    storage_pb2_grpc,
)

SegmentStub = segments_pb2_grpc.SegmentServiceStub


async def register_pending(
    segments: SegmentStub, flow_id: str, *posts: segments_pb2.SegmentPost
) -> segments_pb2.RegisterSegmentsResponse:
    request = segments_pb2.RegisterSegmentsRequest(
        flow_id=flow_id, segments=posts, allocate_unknown_objects=True
    )
    return await segments.RegisterSegments(request)


def post(object_id: str, timerange: str = "[0:0_10:0)") -> segments_pb2.SegmentPost:
    return segments_pb2.SegmentPost(object_id=object_id, timerange=timerange, key_frame_count=1)


async def test_a_first_segment_allocates_an_unknown_object(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    object_id = new_id()
    response = await register_pending(segments, flow_id, post(object_id))
    assert (response.registered_count, list(response.failed_segments)) == (1, [])
    got = await objects_pb2_grpc.ObjectServiceStub(channel).GetObject(
        objects_pb2.GetObjectRequest(object_id=object_id)
    )
    assert list(got.object.referenced_by_flows) == [flow_id]
    assert got.object.first_referenced_by_flow == flow_id
    listed = await segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    [segment] = [s for s in listed.segments if s.object_id == object_id]
    [url] = segment.get_urls
    # In this service's backend (a controlled instance: "unset = true"), its bytes to come.
    assert not url.HasField("controlled") or url.controlled
    async with httpx.AsyncClient() as http:
        assert (await http.get(url.url)).status_code == 404


async def test_without_the_flag_an_unknown_object_is_still_refused(
    segments: SegmentStub, flow_id: str
) -> None:
    response = await segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=[post(new_id())])
    )
    [failed] = response.failed_segments
    assert (response.registered_count, failed.error.reason) == (0, "OBJECT_UNKNOWN")


async def test_an_object_id_unsafe_as_a_key_is_refused(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    for object_id in ("a/../b", "a//b", "back\\slash"):
        response = await register_pending(segments, flow_id, post(object_id))
        [failed] = response.failed_segments
        assert failed.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0], object_id
        result = await failure(
            objects_pb2_grpc.ObjectServiceStub(channel).GetObject(
                objects_pb2.GetObjectRequest(object_id=object_id)
            )
        )
        assert result.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)


async def test_the_upload_url_of_a_pending_object_is_issued_again(
    segments: SegmentStub,
    flow_id: str,
    channel: grpc.aio.Channel,
    flows: flows_pb2_grpc.FlowServiceStub,
) -> None:
    storage = storage_pb2_grpc.StorageServiceStub(channel)
    object_id = new_id()
    await register_pending(segments, flow_id, post(object_id))
    taken = await failure(allocate(storage, flow_id=flow_id, object_ids=[object_id]))
    assert taken.reason == "OBJECT_IDS_TAKEN"  # not without asking
    other_flow = await new_flow(flows)
    taken = await failure(
        allocate(storage, flow_id=other_flow, object_ids=[object_id], reissue_pending=True)
    )
    assert taken.reason == "OBJECT_IDS_TAKEN"  # only on the Flow it was allocated for
    fresh = new_id()
    [again, new] = await allocate(
        storage, flow_id=flow_id, object_ids=[object_id, fresh], reissue_pending=True
    )
    assert (again.object_id, new.object_id) == (object_id, fresh)
    async with httpx.AsyncClient() as http:
        put = await http.put(again.put_url.url, content=b"the bytes at last",
                             headers={"Content-Type": again.put_url.content_type})  # fmt: skip
        put.raise_for_status()
        listed = await segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
        [segment] = [s for s in listed.segments if s.object_id == object_id]
        assert (await http.get(segment.get_urls[0].url)).content == b"the bytes at last"
    # Its bytes are there now: the id is taken, as any uploaded Object's.
    taken = await failure(
        allocate(storage, flow_id=flow_id, object_ids=[object_id], reissue_pending=True)
    )
    assert taken.reason == "OBJECT_IDS_TAKEN"
