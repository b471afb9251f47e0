"""SegmentService: registration that never lets Segments overlap, window listings
(unary and streamed), deletion by covering timerange."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import field_mask_pb2

from helpers.factories import new_id, video_flow
from helpers.objects import external_urls, upload_objects
from helpers.segments import register
from helpers.status import failure
from tams.v1 import flows_pb2, flows_pb2_grpc, objects_pb2, segments_pb2, segments_pb2_grpc
from tams_server.servicers.segments import FILL_STEP

SegmentStub = segments_pb2_grpc.SegmentServiceStub


def post(
    timerange: str, object_id: str | None = None, **fields: object
) -> segments_pb2.SegmentPost:
    """A Segment of an external Object (unless ``get_urls`` says otherwise)."""
    object_id = object_id or new_id()
    fields.setdefault("get_urls", external_urls(object_id))
    return segments_pb2.SegmentPost(object_id=object_id, timerange=timerange, **fields)  # type: ignore[arg-type]


def seconds(start: int, end: int) -> str:
    return f"[{start}:0_{end}:0)"


async def listed(stub: SegmentStub, flow_id: str, **kwargs: object) -> list[str]:
    response = await stub.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id, **kwargs))  # type: ignore[arg-type]
    return [s.timerange for s in response.segments]


async def test_register_and_list(
    segments: SegmentStub,
    flows: flows_pb2_grpc.FlowServiceStub,
    flow_id: str,
    channel: grpc.aio.Channel,
) -> None:
    [init_id] = await upload_objects(channel, flow_id, content_type="video/mp4")
    response = await register(
        segments, flow_id,
        post(seconds(0, 10), ts_offset="1:0", last_duration="0:40000000", sample_offset=0,
             sample_count=250, key_frame_count=1, init_object_id=init_id,
             get_urls=[segments_pb2.UncontrolledUrl(url="https://cdn.example/a", label="cdn")]),
        post(seconds(10, 20)),
    )  # fmt: skip
    assert response.registered_count == 2
    assert list(response.failed_segments) == []
    page = await segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    first = page.segments[0]
    assert first.timerange == "[0:0_10:0)"
    assert (first.ts_offset, first.last_duration, first.sample_count) == ("1:0", "0:40000000", 250)
    assert first.key_frame_count == 1
    assert first.init_object.object_id == init_id
    assert [(u.url, u.label, u.controlled) for u in first.get_urls] == [
        ("https://cdn.example/a", "cdn", False)
    ]
    assert page.timerange == "[0:0_20:0)"
    flow = (
        await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id, include_timerange=True))
    ).flow
    assert flow.timerange == "[0:0_20:0)"
    assert flow.segments_updated.seconds > 0
    with_object_range = await segments.ListSegments(
        segments_pb2.ListSegmentsRequest(flow_id=flow_id, include_object_timerange=True)
    )
    assert with_object_range.segments[0].object_timerange == "[-1:0_9:0)"
    without_urls = await segments.ListSegments(
        segments_pb2.ListSegmentsRequest(
            flow_id=flow_id, include_object_timerange=True,
            get_url_options=objects_pb2.GetUrlOptions(accept_get_urls_set=True),
        )
    )  # fmt: skip
    assert [s.object_timerange for s in without_urls.segments] == ["[-1:0_9:0)", "[10:0_20:0)"]
    assert not without_urls.segments[0].get_urls


async def test_overlaps_are_refused_with_the_conflict_named(
    segments: SegmentStub, flow_id: str
) -> None:
    await register(segments, flow_id, post(seconds(10, 20)))
    response = await register(
        segments, flow_id,
        post(seconds(0, 10)),            # touches [10:0_20:0) but does not overlap
        post("[5:0_15:0)"),              # overlaps the stored one and the first of this batch
        post("[20:0_30:0)"),
        post("[25:0_26:0)"),             # overlaps the previous one of this batch
        post("[19:999999999_20:0)"),     # one nanosecond of overlap
        post("[30:0]"),                  # the instant 30:0 is free: [20:0_30:0) excludes it
    )  # fmt: skip
    assert response.registered_count == 3
    failed = {f.index: f for f in response.failed_segments}
    assert sorted(failed) == [1, 3, 4]
    assert failed[1].error.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert failed[1].error.reason == "SEGMENT_OVERLAP"
    assert failed[1].error.metadata["conflictingTimerange"] in ("[10:0_20:0)", "[0:0_10:0)")
    assert failed[3].error.metadata["conflictingTimerange"] == "[20:0_30:0)"
    assert failed[4].timerange == "[19:999999999_20:0)"
    assert await listed(segments, flow_id) == ["[0:0_10:0)", "[10:0_20:0)", "[20:0_30:0)", "[30:0]"]


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        (post(""), "segments[0].timerange", "MISSING_FIELD"),
        (post("[1.5_2:0)"), "segments[0].timerange", "INVALID_ARGUMENT"),
        (post("()"), "segments[0].timerange", "INVALID_ARGUMENT"),
        (post("[5:0_3:0)"), "segments[0].timerange", "INVALID_ARGUMENT"),
        (post("[5:0_"), "segments[0].timerange", "INVALID_ARGUMENT"),
        (segments_pb2.SegmentPost(timerange="[0:0_1:0)"), "segments[0].object_id", "MISSING_FIELD"),
        (post("[0:0_1:0)", ts_offset="1.5"), "segments[0].ts_offset", "INVALID_ARGUMENT"),
        (post("[0:0_1:0)", last_duration="-1:0"), "segments[0].last_duration", "INVALID_ARGUMENT"),
        (post("[0:0_1:0)", sample_count=-1), "segments[0].sample_count", "INVALID_ARGUMENT"),
        (post("[0:0_1:0)", get_urls=[segments_pb2.UncontrolledUrl(url="u")]),
         "segments[0].get_urls[0].label", "MISSING_FIELD"),
    ],
)  # fmt: skip
async def test_bad_segments_are_refused_and_the_rest_stored(
    segments: SegmentStub, flow_id: str, bad: segments_pb2.SegmentPost, field: str, reason: str
) -> None:
    response = await register(segments, flow_id, bad, post("[100:0_101:0)"))
    assert response.registered_count == 1
    (failed,) = response.failed_segments
    assert failed.index == 0
    assert failed.error.reason == reason
    assert field in [v.field for v in failed.error.field_violations]
    assert await listed(segments, flow_id) == ["[100:0_101:0)"]


async def test_whole_request_errors(
    segments: SegmentStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    result = await failure(register(segments, new_id(), post(seconds(0, 1))))
    assert (result.code, result.reason) == (grpc.StatusCode.NOT_FOUND, "FLOW_NOT_FOUND")
    result = await failure(register(segments, "nope", post(seconds(0, 1))))
    assert (result.code, result.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["flow_id"])
    frozen = video_flow(read_only=True)
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=frozen))
    result = await failure(register(segments, frozen.id, post(seconds(0, 1))))
    assert (result.code, result.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "FLOW_READ_ONLY")
    assert await listed(segments, frozen.id) == []


async def test_listing_an_unknown_flow_is_empty(segments: SegmentStub) -> None:
    assert await listed(segments, new_id()) == []


async def test_window_queries(segments: SegmentStub, flow_id: str) -> None:
    await register(segments, flow_id, *(post(seconds(i, i + 1)) for i in range(10)))
    assert await listed(segments, flow_id, timerange="[3:0_5:0)") == [seconds(3, 4), seconds(4, 5)]
    assert await listed(segments, flow_id, timerange="[3:500000000_4:0]") == [
        seconds(3, 4),
        seconds(4, 5),
    ]
    assert await listed(segments, flow_id, timerange="(8:0_") == [seconds(8, 9), seconds(9, 10)]
    assert await listed(segments, flow_id, timerange="_1:0)") == [seconds(0, 1)]
    assert await listed(segments, flow_id, timerange="()") == []
    assert await listed(segments, flow_id, timerange="[20:0_30:0)") == []
    assert await listed(segments, flow_id, timerange="[2:0_4:0)", reverse_order=True) == [
        seconds(3, 4), seconds(2, 3)
    ]  # fmt: skip
    result = await failure(
        segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id, timerange="[x"))
    )
    assert (result.reason, result.fields) == ("INVALID_TIMERANGE", ["timerange"])


async def test_object_filter_and_reuse(
    segments: SegmentStub, flows: flows_pb2_grpc.FlowServiceStub, flow_id: str
) -> None:
    shared = new_id()
    await register(segments, flow_id, post(seconds(0, 1), shared), post(seconds(1, 2)))
    other = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=other))
    # Edit by reference: the Object's [0:0_1:0) placed at 50:0 of another Flow.
    response = await register(segments, other.id, post(seconds(50, 51), shared, ts_offset="50:0"))
    assert response.registered_count == 1
    assert await listed(segments, flow_id, object_id=shared) == [seconds(0, 1)]


async def test_paging_and_streaming(segments: SegmentStub, flow_id: str) -> None:
    await register(segments, flow_id, *(post(seconds(i, i + 1)) for i in range(25)))
    seen: list[str] = []
    token = ""
    while True:
        page = await segments.ListSegments(
            segments_pb2.ListSegmentsRequest(flow_id=flow_id, page_size=10, page_token=token)
        )
        seen += [s.timerange for s in page.segments]
        token = page.next_page_token
        if not token:
            break
    assert seen == [seconds(i, i + 1) for i in range(25)]
    stream = segments.StreamSegments(
        segments_pb2.StreamSegmentsRequest(flow_id=flow_id, page_size=7)
    )
    pages = [m async for m in stream]
    assert [len(m.segments) for m in pages] == [7, 7, 7, 4]
    assert [s.timerange for m in pages for s in m.segments] == seen
    resumed = segments.StreamSegments(
        segments_pb2.StreamSegmentsRequest(
            flow_id=flow_id, page_size=7, page_token=pages[1].next_page_token
        )
    )
    assert [s.timerange async for m in resumed for s in m.segments] == seen[14:]
    limited = segments.StreamSegments(
        segments_pb2.StreamSegmentsRequest(
            flow_id=flow_id, page_size=7, limit=9, reverse_order=True
        )
    )
    assert [s.timerange async for m in limited for s in m.segments] == seen[::-1][:9]
    wrong = segments.StreamSegments(
        segments_pb2.StreamSegmentsRequest(
            flow_id=flow_id, timerange="[0:0_100:0)", page_token=pages[1].next_page_token
        )
    )
    result = await failure(wrong.read())  # type: ignore[arg-type]
    assert result.reason == "INVALID_PAGE_TOKEN"


async def test_stream_register(segments: SegmentStub, flow_id: str) -> None:
    async def batches() -> object:
        for b in range(4):
            yield segments_pb2.StreamRegisterSegmentsRequest(
                flow_id=flow_id if b == 0 else "",
                segments=[post(seconds(b * 10 + i, b * 10 + i + 1)) for i in range(10)],
            )
        yield segments_pb2.StreamRegisterSegmentsRequest(segments=[post(seconds(5, 6))])

    response = await segments.StreamRegisterSegments(batches())  # type: ignore[arg-type]
    assert response.registered_count == 40
    (failed,) = response.failed_segments
    assert failed.index == 40
    assert failed.error.reason == "SEGMENT_OVERLAP"


async def test_delete_by_covering_timerange(
    segments: SegmentStub, flows: flows_pb2_grpc.FlowServiceStub, flow_id: str
) -> None:
    kept_object = new_id()
    await register(
        segments,
        flow_id,
        *(post(seconds(i, i + 1)) for i in range(5)),
        post(seconds(5, 6), kept_object),
    )
    response = await segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(flow_id=flow_id, timerange="[0:500000000_3:0)")
    )
    assert response.deleted_count == 2  # [1,2) and [2,3): [0,1) is only partly covered
    assert await listed(segments, flow_id) == [
        seconds(0, 1),
        seconds(3, 4),
        seconds(4, 5),
        seconds(5, 6),
    ]
    await segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(flow_id=flow_id, object_id=kept_object)
    )
    assert await listed(segments, flow_id) == [seconds(0, 1), seconds(3, 4), seconds(4, 5)]
    await segments.DeleteSegments(segments_pb2.DeleteSegmentsRequest(flow_id=flow_id))
    assert await listed(segments, flow_id) == []
    flow = (
        await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id, include_timerange=True))
    ).flow
    assert flow.timerange == "()"
    await flows.UpdateFlow(
        flows_pb2.UpdateFlowRequest(
            flow=flows_pb2.Flow(id=flow_id, read_only=True),
            update_mask=field_mask_pb2.FieldMask(paths=["read_only"]),
        )
    )
    result = await failure(
        segments.DeleteSegments(segments_pb2.DeleteSegmentsRequest(flow_id=flow_id))
    )
    assert result.reason == "FLOW_READ_ONLY"


async def test_flow_extent_filters_flow_listing(
    segments: SegmentStub, flows: flows_pb2_grpc.FlowServiceStub, flow_id: str
) -> None:
    await register(segments, flow_id, post(seconds(100, 110)))
    only = flows_pb2.FlowFilter(
        source_id=(await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id))).flow.source_id
    )

    async def ids(timerange: str) -> list[str]:
        only.timerange = timerange
        return [
            f.id for f in (await flows.ListFlows(flows_pb2.ListFlowsRequest(filter=only))).flows
        ]

    assert await ids("[105:0_106:0)") == [flow_id]
    assert await ids("[110:0_120:0)") == []
    assert await ids("()") == []
    result = await failure(flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=new_id())))
    assert result.code == grpc.StatusCode.NOT_FOUND
    await flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow_id))
    assert await listed(segments, flow_id) == []


async def test_soft_delete_keeps_segments_aside(segments: SegmentStub, flow_id: str) -> None:
    await register(segments, flow_id, *(post(seconds(i, i + 1)) for i in range(4)))
    response = await segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(
            flow_id=flow_id, timerange="[1:0_3:0)", soft_delete=True, deleted_by="erin"
        )
    )
    assert response.deleted_count == 2
    assert await listed(segments, flow_id) == [seconds(0, 1), seconds(3, 4)]
    # The timeline is free again: a new Segment may take the place of a deleted one.
    await register(segments, flow_id, post(seconds(1, 2)))
    shown = await segments.ListSegments(
        segments_pb2.ListSegmentsRequest(flow_id=flow_id, show_deleted=True, page_size=2)
    )
    rows = [(s.timerange, s.deleted_by, s.HasField("deleted")) for s in shown.segments]
    assert rows == [(seconds(0, 1), "", False), (seconds(1, 2), "", False)]
    rest = await segments.ListSegments(
        segments_pb2.ListSegmentsRequest(
            flow_id=flow_id, show_deleted=True, page_token=shown.next_page_token
        )
    )
    rows = [(s.timerange, s.deleted_by, s.HasField("deleted")) for s in rest.segments]
    assert rows == [
        (seconds(1, 2), "erin", True),
        (seconds(2, 3), "erin", True),
        (seconds(3, 4), "", False),
    ]
    streamed = segments.StreamSegments(
        segments_pb2.StreamSegmentsRequest(flow_id=flow_id, show_deleted=True, page_size=2)
    )
    assert [s.timerange async for m in streamed for s in m.segments] == [
        seconds(0, 1), seconds(1, 2), seconds(1, 2), seconds(2, 3), seconds(3, 4)
    ]  # fmt: skip
    result = await failure(
        segments.ListSegments(
            segments_pb2.ListSegmentsRequest(flow_id=flow_id, page_token=shown.next_page_token)
        )
    )
    assert result.reason == "INVALID_PAGE_TOKEN"  # a show_deleted token fits no other listing


async def test_a_streamed_page_marks_exactly_its_deleted_segments(
    segments: SegmentStub, flow_id: str
) -> None:
    # A stream converts a page in steps (servicers.segments.FILL_STEP); marks of deleted
    # Segments on either side of a step's edge land on their own Segments.
    count = 2 * FILL_STEP + 100
    await register(segments, flow_id, *(post(seconds(i, i + 1)) for i in range(count)))
    gone = {*range(FILL_STEP - 2, FILL_STEP + 2), count - 1}
    for i in gone:
        await segments.DeleteSegments(
            segments_pb2.DeleteSegmentsRequest(
                flow_id=flow_id, timerange=seconds(i, i + 1), soft_delete=True
            )
        )
    streamed = segments.StreamSegments(
        segments_pb2.StreamSegmentsRequest(flow_id=flow_id, show_deleted=True)
    )
    got = [(s.timerange, s.HasField("deleted")) async for m in streamed for s in m.segments]
    assert got == [(seconds(i, i + 1), i in gone) for i in range(count)]


async def test_show_deleted_listings_keep_the_urls_of_live_segments(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    """A show_deleted listing asked for get_urls gives live and deleted Segments alike
    their URLs and storage path (live ones once lost them: the width of a deleted
    listing's row was taken for that of a row carrying its Object's place)."""
    uploaded = await upload_objects(channel, flow_id, 3)
    await register(
        segments, flow_id,
        *(post(seconds(i, i + 1), object_id, get_urls=[]) for i, object_id in enumerate(uploaded)),
    )  # fmt: skip
    await segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(flow_id=flow_id, timerange="[1:0_2:0)", soft_delete=True)
    )

    def described(listed: list[segments_pb2.Segment]) -> list[tuple[str, bool, int, bool]]:
        return [
            (s.object_id, s.HasField("deleted"), len(s.get_urls), bool(s.storage_path))
            for s in listed
        ]

    expected = [
        (uploaded[0], False, 1, True), (uploaded[1], True, 1, True), (uploaded[2], False, 1, True)
    ]  # fmt: skip
    shown = await segments.ListSegments(
        segments_pb2.ListSegmentsRequest(flow_id=flow_id, show_deleted=True)
    )
    assert described(list(shown.segments)) == expected
    streamed = segments.StreamSegments(
        segments_pb2.StreamSegmentsRequest(flow_id=flow_id, show_deleted=True, page_size=2)
    )
    assert described([s async for m in streamed for s in m.segments]) == expected


async def test_stream_register_errors(segments: SegmentStub, flow_id: str) -> None:
    async def changing() -> AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest]:
        yield segments_pb2.StreamRegisterSegmentsRequest(
            flow_id=flow_id, segments=[post(seconds(0, 1))]
        )
        yield segments_pb2.StreamRegisterSegmentsRequest(
            flow_id=new_id(), segments=[post(seconds(1, 2))]
        )

    result = await failure(segments.StreamRegisterSegments(changing()))  # type: ignore[arg-type]
    assert result.fields == ["flow_id"]

    async def anonymous() -> AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest]:
        yield segments_pb2.StreamRegisterSegmentsRequest(segments=[post(seconds(0, 1))])

    result = await failure(segments.StreamRegisterSegments(anonymous()))  # type: ignore[arg-type]
    assert (result.reason, result.fields) == ("MISSING_FIELD", ["flow_id"])

    async def nothing() -> AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest]:
        return
        yield

    result = await failure(segments.StreamRegisterSegments(nothing()))  # type: ignore[arg-type]
    assert result.fields == ["flow_id"]


async def test_request_limits(segments: SegmentStub, flow_id: str) -> None:
    too_many = [post(seconds(i, i + 1)) for i in range(10_001)]
    result = await failure(register(segments, flow_id, *too_many))
    assert (result.reason, result.fields) == ("BATCH_TOO_LARGE", ["segments"])
    assert await listed(segments, flow_id) == []
    stream = segments.StreamSegments(segments_pb2.StreamSegmentsRequest(flow_id=flow_id, limit=-1))
    result = await failure(stream.read())  # type: ignore[arg-type]
    assert result.fields == ["limit"]


async def test_iso_timeranges_are_stored_in_tams_form(segments: SegmentStub, flow_id: str) -> None:
    response = await register(
        segments, flow_id, post("[2024-12-20T10:00:00Z_2024-12-20T10:00:10Z)")
    )
    assert response.registered_count == 1
    assert await listed(segments, flow_id) == ["[1734688837:0_1734688847:0)"]
