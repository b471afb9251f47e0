"""Concurrent writers on one Flow id or one new Source: the database keeps them
correct on both engines (no duplicate, no lost write, no internal error)."""

from __future__ import annotations

import asyncio
import itertools

import grpc

from helpers.factories import new_id, tag, video_flow
from helpers.objects import external_post
from tams.v1 import (
    flows_pb2,
    flows_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    sources_pb2,
    sources_pb2_grpc,
)
from tams_server.domain.timerange import parse_timerange

WRITERS = 16


async def test_racing_creates_of_one_id_make_one_flow(
    flows: flows_pb2_grpc.FlowServiceStub,
) -> None:
    flow = video_flow()
    results = await asyncio.gather(
        *(flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow)) for _ in range(WRITERS)),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, flows_pb2.CreateFlowResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(created) == 1
    assert len(refused) == WRITERS - 1
    assert {r.code() for r in refused} == {grpc.StatusCode.ALREADY_EXISTS}


async def test_racing_puts_of_one_id_all_succeed(flows: flows_pb2_grpc.FlowServiceStub) -> None:
    flow_id, source_id = new_id(), new_id()
    versions = [video_flow(id=flow_id, source_id=source_id, label=str(i)) for i in range(WRITERS)]
    results = await asyncio.gather(
        *(
            flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=v, allow_missing=True))
            for v in versions
        )
    )
    assert sum(r.created for r in results) == 1
    final = (await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id))).flow
    assert final.label in {v.label for v in versions}


async def test_racing_flows_of_one_new_source(
    flows: flows_pb2_grpc.FlowServiceStub, sources: sources_pb2_grpc.SourceServiceStub
) -> None:
    source_id = new_id()
    new_flows = [video_flow(source_id=source_id) for _ in range(WRITERS)]
    await asyncio.gather(
        *(flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=f)) for f in new_flows)
    )
    listed = await flows.ListFlows(
        flows_pb2.ListFlowsRequest(filter=flows_pb2.FlowFilter(source_id=source_id))
    )
    assert {f.id for f in listed.flows} == {f.id for f in new_flows}
    got = await sources.GetSource(sources_pb2.GetSourceRequest(source_id=source_id))
    assert got.source.format == "urn:x-nmos:format:video"


async def test_racing_tag_writes_lose_nothing(flows: flows_pb2_grpc.FlowServiceStub) -> None:
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    await asyncio.gather(
        *(
            flows.SetFlowTag(
                flows_pb2.SetFlowTagRequest(flow_id=flow.id, name=f"t{i}", value=tag("v"))
            )
            for i in range(WRITERS)
        )
    )
    final = (await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id))).flow
    assert set(final.tags) == {f"t{i}" for i in range(WRITERS)}


async def test_racing_segment_writers_never_overlap(
    flows: flows_pb2_grpc.FlowServiceStub, segments: segments_pb2_grpc.SegmentServiceStub
) -> None:
    """Eight writers post interleaved, partly overlapping segments to one Flow: what
    is stored never overlaps, every accepted segment is stored, every refused one is
    told why."""
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    s = 1_000_000_000

    def posts(writer: int) -> list[segments_pb2.SegmentPost]:
        # Writer w posts [k + w/8, k + w/8 + 1) for k = 0..24 (in ns): each overlaps
        # its neighbours' segments at the same k, so about one in eight wins a slot.
        return [
            external_post(f"w{writer}-{k}", _seconds_range((k * 8 + writer) * s // 8, s))
            for k in range(25)
        ]

    async def writer(w: int) -> segments_pb2.RegisterSegmentsResponse:
        results = []
        for batch in (posts(w)[:12], posts(w)[12:]):
            results.append(
                await segments.RegisterSegments(
                    segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=batch)
                )
            )
        merged = segments_pb2.RegisterSegmentsResponse()
        for r in results:
            merged.registered_count += r.registered_count
            merged.failed_segments.extend(r.failed_segments)
        return merged

    responses = await asyncio.gather(*(writer(w) for w in range(8)))
    stored = []
    async for page in segments.StreamSegments(segments_pb2.StreamSegmentsRequest(flow_id=flow.id)):
        stored += list(page.segments)
    spans = sorted((parse_timerange(seg.timerange) for seg in stored), key=lambda t: t.start or 0)
    for before, after in itertools.pairwise(spans):
        assert not before.overlaps(after)  # no two stored segments overlap
    assert sum(r.registered_count for r in responses) == len(stored)
    refused = [f for r in responses for f in r.failed_segments]
    assert len(stored) + len(refused) == 8 * 25
    assert {f.error.reason for f in refused} <= {"SEGMENT_OVERLAP"}
    stored_ids = {seg.object_id for seg in stored}
    assert not stored_ids & {f.object_id for f in refused}


def _seconds_range(start_ns: int, length_ns: int) -> str:
    end_ns = start_ns + length_ns
    return f"[{start_ns // 10**9}:{start_ns % 10**9}_{end_ns // 10**9}:{end_ns % 10**9})"
