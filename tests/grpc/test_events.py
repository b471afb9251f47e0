"""EventService.WatchEvents: every committed change as an event from the outbox, in
commit order; none for a change that failed; a watcher resumes with its cursor and
misses nothing, repeats nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from conftest import postgresql_url
from helpers.auth import news_class
from helpers.events import WAIT_S, watching
from helpers.factories import new_id, tag, video_flow
from helpers.objects import external_post, upload_objects
from helpers.servers import own_server
from helpers.status import failure
from tams.v1 import (
    events_pb2,
    events_pb2_grpc,
    flows_pb2,
    flows_pb2_grpc,
    objects_pb2,
    segments_pb2,
    segments_pb2_grpc,
    sources_pb2,
    sources_pb2_grpc,
)

E = events_pb2


def of_source(source_id: str, **fields: object) -> E.WatchEventsRequest:
    return E.WatchEventsRequest(source_ids=[source_id], **fields)  # type: ignore[arg-type]


async def test_each_change_is_one_event_in_commit_order(channel: grpc.aio.Channel) -> None:
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    segments = segments_pb2_grpc.SegmentServiceStub(channel)
    flow = video_flow(label="first")
    async with watching(channel, of_source(flow.source_id)) as watcher:
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        flow.label = "second"
        await flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(
                flow=flow, update_mask=field_mask_pb2.FieldMask(paths=["label"])
            )
        )
        posts = [external_post(new_id(), f"[{i}:0_{i + 1}:0)") for i in range(3)]
        await segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=posts)
        )
        await segments.DeleteSegments(
            segments_pb2.DeleteSegmentsRequest(flow_id=flow.id, timerange="[1:0_3:0)")
        )
        await flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow.id))
        events = await watcher.take(7)
        await watcher.nothing_more()

    assert [e.event_type for e in events] == [
        E.EVENT_TYPE_SOURCE_CREATED,
        E.EVENT_TYPE_FLOW_CREATED,
        E.EVENT_TYPE_FLOW_UPDATED,
        E.EVENT_TYPE_FLOW_SEGMENTS_ADDED,
        E.EVENT_TYPE_FLOW_SEGMENTS_DELETED,
        E.EVENT_TYPE_FLOW_DELETED,
        E.EVENT_TYPE_SOURCE_DELETED,
    ]
    source_created, created, updated, added, deleted, flow_deleted, source_deleted = events
    assert source_created.source.id == flow.source_id
    assert created.flow.id == flow.id
    assert created.flow.label == "first"
    assert updated.flow.label == "second"
    assert added.segments_added.flow_id == flow.id
    assert [s.timerange for s in added.segments_added.segments] == [p.timerange for p in posts]
    assert [s.object_id for s in added.segments_added.segments] == [p.object_id for p in posts]
    assert deleted.segments_deleted.flow_id == flow.id
    assert deleted.segments_deleted.timerange == "[1:0_3:0)"
    assert flow_deleted.flow_id == flow.id
    assert source_deleted.source_id == flow.source_id
    cursors = [int(e.cursor) for e in events]
    assert cursors == sorted(set(cursors))
    assert all(e.event_timestamp.seconds > 0 for e in events)


async def test_a_change_that_fails_has_no_event(channel: grpc.aio.Channel) -> None:
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    segments = segments_pb2_grpc.SegmentServiceStub(channel)
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    segment = external_post(new_id(), "[0:0_1:0)")
    await segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=[segment])
    )
    async with watching(channel, of_source(flow.source_id)) as watcher:
        # Each of these fails as a whole (or stores nothing): no event.
        taken = await failure(flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow)))
        assert taken.code == grpc.StatusCode.ALREADY_EXISTS
        twin = video_flow(source_id=flow.source_id)
        duplicate = await failure(
            flows.BatchCreateFlows(flows_pb2.BatchCreateFlowsRequest(flows=[twin, flow]))
        )
        assert duplicate.code == grpc.StatusCode.ALREADY_EXISTS
        other = external_post(new_id(), segment.timerange)  # another Segment, same place
        overlapping = await segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=[other])
        )
        assert overlapping.registered_count == 0
        nothing = await segments.DeleteSegments(
            segments_pb2.DeleteSegmentsRequest(flow_id=flow.id, timerange="[100:0_200:0)")
        )
        assert nothing.deleted_count == 0
        # A change that succeeds after them is the first event the watcher sees.
        await flows.SetFlowTag(
            flows_pb2.SetFlowTagRequest(flow_id=flow.id, name="state", value=tag("ok"))
        )
        (event,) = await watcher.take(1)
        await watcher.nothing_more()
    assert event.event_type == E.EVENT_TYPE_FLOW_UPDATED
    assert event.flow.tags["state"].string_value == "ok"


async def test_a_batch_of_segments_is_one_event(channel: grpc.aio.Channel) -> None:
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    segments = segments_pb2_grpc.SegmentServiceStub(channel)
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    posts = [external_post(f"batch-{i}", f"[{i}:0_{i + 1}:0)") for i in range(1000)]
    async with watching(channel, E.WatchEventsRequest(flow_ids=[flow.id])) as watcher:
        await segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=posts)
        )
        (event,) = await watcher.take(1)
        await watcher.nothing_more()
    assert event.event_type == E.EVENT_TYPE_FLOW_SEGMENTS_ADDED
    assert len(event.segments_added.segments) == 1000
    assert event.segments_added.segments[999].timerange == "[999:0_1000:0)"


async def test_filters_by_type_flow_and_source(channel: grpc.aio.Channel) -> None:
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    sources = sources_pb2_grpc.SourceServiceStub(channel)
    mine, other = video_flow(), video_flow()
    only_updates = E.WatchEventsRequest(flow_ids=[mine.id], event_types=[E.EVENT_TYPE_FLOW_UPDATED])
    async with (
        watching(channel, only_updates) as updates,
        watching(channel, of_source(mine.source_id)) as by_source,
    ):
        for flow in (mine, other):
            await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
            await flows.SetFlowTag(
                flows_pb2.SetFlowTagRequest(flow_id=flow.id, name="n", value=tag("v"))
            )
        await sources.SetSourceTag(
            sources_pb2.SetSourceTagRequest(source_id=mine.source_id, name="n", value=tag("v"))
        )
        (update,) = await updates.take(1)
        await updates.nothing_more()
        source_events = await by_source.take(4)
        await by_source.nothing_more()
    assert update.flow.id == mine.id
    assert [e.event_type for e in source_events] == [
        E.EVENT_TYPE_SOURCE_CREATED,
        E.EVENT_TYPE_FLOW_CREATED,
        E.EVENT_TYPE_FLOW_UPDATED,
        E.EVENT_TYPE_SOURCE_UPDATED,
    ]
    assert source_events[3].source.tags["n"].string_value == "v"


async def test_a_watcher_resumes_with_exactly_what_it_missed(channel: grpc.aio.Channel) -> None:
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    flow = video_flow()

    async def set_tag(value: str) -> None:
        await flows.SetFlowTag(
            flows_pb2.SetFlowTagRequest(flow_id=flow.id, name="n", value=tag(value))
        )

    async with watching(channel, E.WatchEventsRequest(flow_ids=[flow.id])) as first:
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        await set_tag("1")
        seen = await first.take(2)
        resume = first.resume_cursor
    assert resume == seen[-1].cursor
    for value in ("2", "3", "4"):  # while no one watches
        await set_tag(value)
    request = E.WatchEventsRequest(flow_ids=[flow.id], after_cursor=resume)
    async with watching(channel, request) as second:
        assert second.start_cursor == resume
        missed = await second.take(3)
        await set_tag("5")
        (live,) = await second.take(1)
        await second.nothing_more()
    assert [e.flow.tags["n"].string_value for e in missed] == ["2", "3", "4"]
    assert live.flow.tags["n"].string_value == "5"
    assert int(missed[0].cursor) > int(resume)


async def test_added_segments_carry_fresh_urls_when_asked(channel: grpc.aio.Channel) -> None:
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    segments = segments_pb2_grpc.SegmentServiceStub(channel)
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    (object_id,) = await upload_objects(channel, flow.id)
    plain = E.WatchEventsRequest(
        flow_ids=[flow.id], get_url_options=objects_pb2.GetUrlOptions(accept_get_urls_set=True)
    )
    with_urls = E.WatchEventsRequest(flow_ids=[flow.id], include_object_timerange=True)
    async with watching(channel, plain) as bare, watching(channel, with_urls) as rich:
        await segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(
                flow_id=flow.id,
                segments=[segments_pb2.SegmentPost(object_id=object_id, timerange="[0:0_2:0)")],
            )
        )
        (bare_event,) = await bare.take(1)
        (rich_event,) = await rich.take(1)
    (bare_segment,) = bare_event.segments_added.segments
    (rich_segment,) = rich_event.segments_added.segments
    assert not bare_segment.get_urls
    assert not bare_segment.HasField("object_timerange")
    assert rich_segment.object_timerange == "[0:0_2:0)"
    assert [url.url[:4] for url in rich_segment.get_urls] == ["http"]
    assert rich_segment.storage_path


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"event_types": [99]}, "event_types[0]"),
        ({"event_types": [E.EVENT_TYPE_UNSPECIFIED]}, "event_types[0]"),
        ({"after_cursor": "abc"}, "after_cursor"),
        ({"after_cursor": "-1"}, "after_cursor"),
        ({"after_cursor": "9" * 30}, "after_cursor"),
        ({"flow_ids": ["not-a-uuid"]}, "flow_ids[0]"),
        ({"source_ids": [new_id(), "x"]}, "source_ids[1]"),
    ],
)
async def test_bad_requests_name_the_field(
    channel: grpc.aio.Channel, request_fields: dict[str, object], field: str
) -> None:
    stub = events_pb2_grpc.EventServiceStub(channel)
    call = stub.WatchEvents(E.WatchEventsRequest(**request_fields))  # type: ignore[arg-type]
    error = await failure(call.read())
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in error.fields


async def test_a_cursor_from_the_future_is_out_of_range(channel: grpc.aio.Channel) -> None:
    stub = events_pb2_grpc.EventServiceStub(channel)
    call = stub.WatchEvents(E.WatchEventsRequest(after_cursor=str(2**62)))
    error = await failure(call.read())
    assert error.code == grpc.StatusCode.OUT_OF_RANGE
    assert error.reason == "EVENT_CURSOR_AHEAD"
    assert int(error.metadata["newestCursor"]) < 2**62


async def test_a_cursor_older_than_retention_is_out_of_range(
    tmp_path: Path, database_url: str
) -> None:
    async with own_server(
        tmp_path, database_url, event_retention_s=0.2, janitor_interval_s=0.1
    ) as stubs:
        async with watching(stubs.channel) as watcher:
            start = watcher.start_cursor
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=video_flow()))
        stub = events_pb2_grpc.EventServiceStub(stubs.channel)
        async with asyncio.timeout(WAIT_S):
            while True:  # until retention has removed the two events (one at a time)
                call = stub.WatchEvents(E.WatchEventsRequest(after_cursor=start))
                try:
                    error = await failure(call.read())
                except AssertionError:  # read an event: not pruned yet
                    error = None
                finally:
                    call.cancel()
                if error is not None and (
                    error.code != grpc.StatusCode.OUT_OF_RANGE
                    or int(error.metadata.get("prunedThrough", 0)) >= int(start) + 2
                ):
                    break
                await asyncio.sleep(0.1)
        assert error.code == grpc.StatusCode.OUT_OF_RANGE
        assert error.reason == "EVENT_CURSOR_EXPIRED"
        pruned = int(error.metadata["prunedThrough"])
        assert str(pruned) in error.message
        # Resuming after the cursor the error names works.
        async with watching(stubs.channel, E.WatchEventsRequest(after_cursor=str(pruned))) as late:
            assert late.start_cursor == str(pruned)


async def test_no_events_are_written_when_the_outbox_is_off(
    tmp_path: Path, database_url: str
) -> None:
    async with (
        own_server(tmp_path, database_url, events_enabled=False) as stubs,
        watching(stubs.channel) as watcher,
    ):
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=video_flow()))
        await watcher.nothing_more()


async def test_an_event_committed_on_one_replica_wakes_a_watcher_on_another(
    tmp_path: Path,
) -> None:
    # Two servers on one PostgreSQL database. B's watchers would look on their own only
    # after an hour: the event can reach them in time only by B's LISTEN hearing A's
    # NOTIFY.
    url = postgresql_url()
    async with (
        own_server(tmp_path / "a", url) as a,
        own_server(tmp_path / "b", url, event_poll_s=3600) as b,
    ):
        flow = video_flow()
        async with watching(b.channel, E.WatchEventsRequest(flow_ids=[flow.id])) as watcher:
            await a.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
            (event,) = await watcher.take(1)
            flow.label = "changed on A"
            await a.flows.UpdateFlow(
                flows_pb2.UpdateFlowRequest(
                    flow=flow, update_mask=field_mask_pb2.FieldMask(paths=["label"])
                )
            )
            (update,) = await watcher.take(1)
    assert event.flow.id == flow.id
    assert update.flow.label == "changed on A"


async def test_object_timeranges_are_the_given_or_the_shifted_segment_timerange(
    channel: grpc.aio.Channel,
) -> None:
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    segments = segments_pb2_grpc.SegmentServiceStub(channel)
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    given = external_post(
        new_id(), "[0:0_1:0)", object_timerange="[100:0_105:0)", ts_offset="-100:0"
    )
    shifted = external_post(new_id(), "[20:0_21:0)", ts_offset="10:0")
    request = E.WatchEventsRequest(flow_ids=[flow.id], include_object_timerange=True)
    async with watching(channel, request) as watcher:
        await segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=[given, shifted])
        )
        (event,) = await watcher.take(1)
    assert [s.object_timerange for s in event.segments_added.segments] == [
        "[100:0_105:0)",
        "[10:0_11:0)",
    ]


async def test_a_watcher_sees_only_events_of_what_it_may_read(
    tmp_path: Path, database_url: str
) -> None:
    settings, admin, newsroom = news_class(tmp_path)
    news, sport, open_flow = (
        video_flow(tags={"auth_classes": "news"}),
        video_flow(tags={"auth_classes": "sport"}),
        video_flow(),
    )
    async with own_server(tmp_path / "data", database_url, **settings) as stubs:
        request = E.WatchEventsRequest(event_types=[E.EVENT_TYPE_FLOW_CREATED])
        async with watching(stubs.channel, request, newsroom) as watcher:
            for flow in (news, sport, open_flow):
                await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow), metadata=admin)
            seen = await watcher.take(2)
            await watcher.nothing_more()
    assert [e.flow.id for e in seen] == [news.id, open_flow.id]


async def test_concurrent_writers_reach_a_live_watcher_once_each_in_cursor_order(
    channel: grpc.aio.Channel,
) -> None:
    # Cursors follow commit order, so a watcher that reads while eight writers commit
    # concurrently never skips one that commits late with a smaller cursor: what it
    # saw live equals, event for event, what a watcher reading afterwards sees.
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    writers = [video_flow() for _ in range(8)]
    for flow in writers:
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    request = E.WatchEventsRequest(
        flow_ids=[f.id for f in writers], event_types=[E.EVENT_TYPE_FLOW_UPDATED]
    )

    async def write(flow: flows_pb2.Flow) -> None:
        for i in range(10):
            await flows.SetFlowTag(
                flows_pb2.SetFlowTagRequest(flow_id=flow.id, name="n", value=tag(str(i)))
            )

    async with watching(channel, request) as live:
        start = live.start_cursor
        await asyncio.gather(*(write(flow) for flow in writers))
        seen = await live.take(80)
        await live.nothing_more()
    replay = E.WatchEventsRequest()
    replay.CopyFrom(request)
    replay.after_cursor = start
    async with watching(channel, replay) as later:
        again = await later.take(80)
    cursors = [int(e.cursor) for e in seen]
    assert cursors == sorted(set(cursors))
    assert [e.cursor for e in again] == [e.cursor for e in seen]
    for flow in writers:  # each writer's changes in its own order
        mine = [e.flow.tags["n"].string_value for e in seen if e.flow.id == flow.id]
        assert mine == [str(i) for i in range(10)]
