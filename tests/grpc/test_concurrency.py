"""Concurrent writers on one Flow id or one new Source: the database keeps them
correct on both engines (no duplicate, no lost write, no internal error)."""

from __future__ import annotations

import asyncio

import grpc
from helpers.factories import new_id, tag, video_flow

from tams.v1 import flows_pb2, flows_pb2_grpc, sources_pb2, sources_pb2_grpc

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
