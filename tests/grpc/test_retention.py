"""Retention by tags (TAMS AppNote 0019): a background sweep deletes the Segments that
end more than ``segment_retention_offset`` ago and the Flows unchanged for longer than
``flow_retention_offset``, recording the usual events; a tag that is no timestamp
retains nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc

from helpers.factories import new_id, tag, video_flow
from helpers.objects import external_post
from helpers.servers import Stubs, own_server
from helpers.status import failure
from tams.v1 import events_pb2, events_pb2_grpc, flows_pb2, segments_pb2

WAIT_S = 20
TAI_MINUS_UTC_S = 37


async def timeranges(stubs: Stubs, flow_id: str) -> list[str]:
    page = await stubs.segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    return [s.timerange for s in page.segments]


async def test_expired_segments_and_flows_go_with_their_events(
    tmp_path: Path, database_url: str
) -> None:
    now_tai = int(time.time()) + TAI_MINUS_UTC_S
    recent = f"[{now_tai - 5}:0_{now_tai + 3600}:0)"
    kept_tag = video_flow(tags={"segment_retention_offset": "not a timestamp"})
    trimmed = video_flow(tags={"segment_retention_offset": "3600:0"})
    doomed = video_flow()
    async with own_server(tmp_path, database_url, retention_interval_s=0.1) as stubs:
        events = events_pb2_grpc.EventServiceStub(stubs.channel).WatchEvents(
            events_pb2.WatchEventsRequest(flow_ids=[trimmed.id, doomed.id, kept_tag.id])
        )
        await events.read()  # watching from now on
        for flow in (kept_tag, trimmed, doomed):
            await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
            posts = [
                external_post(new_id(), "[0:0_10:0)"),
                external_post(new_id(), "[10:0_20:0)"),
                external_post(new_id(), recent),
            ]
            await stubs.segments.RegisterSegments(
                segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=posts)
            )
        # Set last, after the Segments: the Flow is unchanged from now on.
        await stubs.flows.SetFlowTag(
            flows_pb2.SetFlowTagRequest(
                flow_id=doomed.id, name="flow_retention_offset", value=tag("0:500000000")
            )
        )
        seen: list[events_pb2.Event] = []
        async with asyncio.timeout(WAIT_S):  # the events say when the sweeps did it
            while not {e.event_type for e in seen} >= {
                events_pb2.EVENT_TYPE_FLOW_SEGMENTS_DELETED,
                events_pb2.EVENT_TYPE_FLOW_DELETED,
            }:
                response = await events.read()
                assert isinstance(response, events_pb2.WatchEventsResponse)
                seen.extend(response.events)
        assert await timeranges(stubs, trimmed.id) == [recent]
        assert len(await timeranges(stubs, kept_tag.id)) == 3
        gone = await failure(stubs.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=doomed.id)))
        assert gone.code == grpc.StatusCode.NOT_FOUND
        events.cancel()
    deleted = [e.segments_deleted for e in seen if e.HasField("segments_deleted")]
    assert [(d.flow_id, d.timerange) for d in deleted] == [(trimmed.id, "[0:0_20:0)")]
    assert [e.flow_id for e in seen if e.HasField("flow_id")] == [doomed.id]
