"""Which Objects a Segment may use: uploaded allocations of its own Flow, external
Objects with uncontrolled URLs, and reuse that stays inside the Object. Every refusal
is reported per Segment and leaves nothing behind."""

from __future__ import annotations

import grpc
import httpx

from helpers.factories import new_id, video_flow
from helpers.objects import external_post, external_urls, upload_objects
from helpers.segments import register
from tams.v1 import flows_pb2, flows_pb2_grpc, segments_pb2, segments_pb2_grpc, storage_pb2
from tams.v1 import storage_pb2_grpc as storage_grpc

SegmentStub = segments_pb2_grpc.SegmentServiceStub
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION.value[0]


async def refusal(stub: SegmentStub, flow_id: str, post: segments_pb2.SegmentPost) -> str:
    """Register one Segment that must be refused; return the reason, after checking
    that nothing of it was stored."""
    response = await register(stub, flow_id, post)
    assert response.registered_count == 0
    [failed] = response.failed_segments
    assert failed.error.code == FAILED_PRECONDITION
    listed = await stub.ListSegments(
        segments_pb2.ListSegmentsRequest(flow_id=flow_id, timerange=post.timerange)
    )
    assert [s.object_id for s in listed.segments if s.object_id == post.object_id] == []
    return failed.error.reason


def media(object_id: str, timerange: str, **fields: object) -> segments_pb2.SegmentPost:
    return segments_pb2.SegmentPost(object_id=object_id, timerange=timerange, **fields)  # type: ignore[arg-type]


async def test_uploaded_objects_register_and_unknown_ones_do_not(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    [uploaded] = await upload_objects(channel, flow_id)
    assert await refusal(segments, flow_id, media(new_id(), "[0:0_1:0)")) == "OBJECT_UNKNOWN"
    response = await register(segments, flow_id, media(uploaded, "[0:0_1:0)"))
    assert (response.registered_count, list(response.failed_segments)) == (1, [])


async def test_an_allocation_never_uploaded_is_refused_until_it_is(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    storage = storage_grpc.StorageServiceStub(channel)
    [allocated] = [
        item
        async for batch in storage.AllocateStorage(
            storage_pb2.AllocateStorageRequest(flow_id=flow_id, limit=1)
        )
        for item in batch.media_objects
    ]
    post = media(allocated.object_id, "[0:0_1:0)")
    assert await refusal(segments, flow_id, post) == "OBJECT_NOT_UPLOADED"
    async with httpx.AsyncClient() as http:
        put = await http.put(allocated.put_url.url, content=b"late bytes")
        put.raise_for_status()
    assert (await register(segments, flow_id, post)).registered_count == 1


async def test_first_use_is_on_the_allocating_flow(
    segments: SegmentStub,
    flows: flows_pb2_grpc.FlowServiceStub,
    flow_id: str,
    channel: grpc.aio.Channel,
) -> None:
    [object_id] = await upload_objects(channel, flow_id)
    other = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=other))
    reason = await refusal(segments, other.id, media(object_id, "[0:0_1:0)"))
    assert reason == "OBJECT_OF_ANOTHER_FLOW"
    # Once registered on its own Flow, any Flow may reuse it (edit by reference).
    assert (await register(segments, flow_id, media(object_id, "[0:0_1:0)"))).registered_count
    reuse = media(object_id, "[7:0_8:0)", ts_offset="7:0")
    assert (await register(segments, other.id, reuse)).registered_count == 1


async def test_reuse_stays_inside_the_object_and_keeps_its_properties(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    [object_id, init_id] = await upload_objects(channel, flow_id, 2)
    first = media(
        object_id, "[10:0_14:0)", object_timerange="[0:0_4:0)", ts_offset="10:0",
        key_frame_count=2, init_object_id=init_id,
    )  # fmt: skip
    assert (await register(segments, flow_id, first)).registered_count == 1
    cases = {
        "OBJECT_TIMERANGE_MISMATCH": media(object_id, "[20:0_25:0)", ts_offset="20:0"),
        "OBJECT_PROPERTY_MISMATCH": media(
            object_id, "[30:0_31:0)", ts_offset="30:0", key_frame_count=9
        ),
    }
    for reason, post in cases.items():
        assert await refusal(segments, flow_id, post) == reason
    changed_init = media(object_id, "[40:0_41:0)", ts_offset="40:0", init_object_id=new_id())
    assert await refusal(segments, flow_id, changed_init) == "OBJECT_UNKNOWN"
    # A part of the Object, with its properties omitted: accepted, and it inherits the
    # init Object.
    part = media(object_id, "[51:0_52:0)", ts_offset="50:0")
    assert (await register(segments, flow_id, part)).registered_count == 1
    listed = await segments.ListSegments(
        segments_pb2.ListSegmentsRequest(flow_id=flow_id, timerange="[51:0_52:0)")
    )
    assert listed.segments[0].init_object.object_id == init_id


async def test_the_first_segment_must_lie_inside_the_object_timerange_it_gives(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    [object_id] = await upload_objects(channel, flow_id)
    post = media(object_id, "[0:0_5:0)", object_timerange="[0:0_4:0)")
    assert await refusal(segments, flow_id, post) == "OBJECT_TIMERANGE_MISMATCH"


async def test_init_and_media_objects_do_not_mix(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    [object_id, init_id] = await upload_objects(channel, flow_id, 2)
    first = media(object_id, "[0:0_1:0)", init_object_id=init_id)
    assert (await register(segments, flow_id, first)).registered_count == 1
    assert await refusal(segments, flow_id, media(init_id, "[5:0_6:0)")) == "OBJECT_KIND_MISMATCH"
    [other] = await upload_objects(channel, flow_id)
    as_init = media(other, "[7:0_8:0)", init_object_id=object_id)
    assert await refusal(segments, flow_id, as_init) == "OBJECT_KIND_MISMATCH"


async def test_external_objects_and_their_labels(segments: SegmentStub, flow_id: str) -> None:
    object_id = new_id()
    assert (
        await register(segments, flow_id, external_post(object_id, "[0:0_1:0)"))
    ).registered_count
    clash = media(
        object_id, "[5:0_6:0)", ts_offset="5:0",
        get_urls=[segments_pb2.UncontrolledUrl(url="https://elsewhere.example/x", label="origin")],
    )  # fmt: skip
    assert await refusal(segments, flow_id, clash) == "GET_URL_LABEL_TAKEN"
    backend_label = media(
        new_id(), "[9:0_10:0)",
        get_urls=[segments_pb2.UncontrolledUrl(url="https://x.example/y", label="local")],
    )  # fmt: skip
    assert await refusal(segments, flow_id, backend_label) == "GET_URL_LABEL_TAKEN"
    # Reuse without URLs, or with the same ones, is fine.
    again = media(object_id, "[20:0_21:0)", ts_offset="20:0", get_urls=external_urls(object_id))
    assert (await register(segments, flow_id, again)).registered_count == 1


async def test_a_batch_reuses_an_object_it_introduces(segments: SegmentStub, flow_id: str) -> None:
    object_id = new_id()
    response = await register(
        segments, flow_id,
        external_post(object_id, "[0:0_2:0)"),
        media(object_id, "[10:0_11:0)", ts_offset="10:0"),   # inside [0:0_2:0)
        media(object_id, "[20:0_23:0)", ts_offset="20:0"),   # 3 s of a 2 s Object
    )  # fmt: skip
    assert response.registered_count == 2
    assert [(f.index, f.error.reason) for f in response.failed_segments] == [
        (2, "OBJECT_TIMERANGE_MISMATCH")
    ]
