"""Registering a Segment again, identical to the stored one, succeeds (a client that
lost the reply retries without being told its own Segments overlap): it counts as
registered, is stored once and adds no second event. A different Segment at the same
place is still refused."""

from __future__ import annotations

import grpc

from helpers.events import watching
from helpers.factories import new_id
from helpers.objects import external_post, upload_objects
from helpers.segments import register
from tams.v1 import events_pb2, segments_pb2, segments_pb2_grpc
from tams_client import AsyncTamsClient

SegmentStub = segments_pb2_grpc.SegmentServiceStub


async def listed(stub: SegmentStub, flow_id: str) -> list[tuple[str, str]]:
    page = await stub.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    return [(s.object_id, s.timerange) for s in page.segments]


async def test_an_identical_repost_is_registered_once_and_adds_no_event(
    segments: SegmentStub, flow_id: str, channel: grpc.aio.Channel
) -> None:
    [uploaded, init] = await upload_objects(channel, flow_id, 2)
    posts = [
        external_post(new_id(), "[0:0_1:0)"),
        segments_pb2.SegmentPost(
            object_id=uploaded,
            timerange="[10:0_12:0)",
            ts_offset="10:0",
            last_duration="0:40",
            object_timerange="[0:0_2:0)",
            sample_offset=0,
            sample_count=50,
            key_frame_count=1,
            init_object_id=init,
        ),
    ]
    first = await register(segments, flow_id, *posts)
    assert (first.registered_count, list(first.failed_segments)) == (2, [])
    stored = await listed(segments, flow_id)
    request = events_pb2.WatchEventsRequest(flow_ids=[flow_id])
    async with watching(channel, request) as watcher:
        again = await register(segments, flow_id, *posts)
        assert (again.registered_count, list(again.failed_segments)) == (2, [])
        # A batch of one repeat and one new Segment: one event, of the new one only.
        new = external_post(new_id(), "[1:0_2:0)")
        mixed = await register(segments, flow_id, posts[0], new)
        assert (mixed.registered_count, list(mixed.failed_segments)) == (2, [])
        (event,) = await watcher.take(1)
        await watcher.nothing_more()
    assert [s.object_id for s in event.segments_added.segments] == [new.object_id]
    expected = [stored[0], (new.object_id, "[1:0_2:0)"), stored[1]]
    assert await listed(segments, flow_id) == expected


async def test_a_different_segment_at_the_same_place_is_still_refused(
    segments: SegmentStub, flow_id: str
) -> None:
    object_id = new_id()
    stored = external_post(object_id, "[0:0_1:0)", sample_count=25)
    assert (await register(segments, flow_id, stored)).registered_count == 1
    others = [
        external_post(new_id(), "[0:0_1:0)", sample_count=25),  # another Object
        external_post(object_id, "[0:0_1:0)", sample_count=24),  # another field
        external_post(object_id, "[0:0_1:0)"),  # a field left out
        external_post(object_id, "[0:500000000_1:0)", sample_count=25),  # another place
    ]
    with_url = external_post(object_id, "[0:0_1:0)", sample_count=25)
    with_url.get_urls.add(url="https://elsewhere.example/x", label="mirror")  # a new URL
    for post in [*others, with_url]:
        response = await register(segments, flow_id, post)
        assert response.registered_count == 0
        [failed] = response.failed_segments
        assert failed.error.reason == "SEGMENT_OVERLAP", post
    assert await listed(segments, flow_id) == [(object_id, "[0:0_1:0)")]


async def test_a_repeated_post_within_one_call_is_refused(
    segments: SegmentStub, flow_id: str
) -> None:
    """Only a stored Segment is repeated safely: the same post twice in one call is
    the client's mistake, as before."""
    post = external_post(new_id(), "[0:0_1:0)")
    response = await register(segments, flow_id, post, post)
    assert response.registered_count == 1
    assert [f.index for f in response.failed_segments] == [1]


async def test_a_streamed_run_sent_again_is_registered_again(
    grpc_target: str, flow_id: str, segments: SegmentStub
) -> None:
    posts = [external_post(f"run-{flow_id}-{i}", f"[{i}:0_{i + 1}:0)") for i in range(30)]
    async with AsyncTamsClient(grpc_target) as tams:
        first = await tams.stream_register_segments(flow_id, posts[:20], batch_size=7)
        assert (first.registered_count, list(first.failed_segments)) == (20, [])
        # The whole run again, as a client resends it after a lost reply.
        again = await tams.stream_register_segments(flow_id, posts, batch_size=7)
        assert (again.registered_count, list(again.failed_segments)) == (30, [])
    assert len(await listed(segments, flow_id)) == 30
