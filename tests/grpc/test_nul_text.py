"""Text holding U+0000. PostgreSQL's text type can neither store nor compare it: such a
request is INVALID_ARGUMENT (INVALID_TEXT) and writes nothing, never INTERNAL; SQLite
could keep it, and refuses it the same, so that both engines answer alike."""

from __future__ import annotations

from helpers.factories import unique_tag, video_flow
from helpers.status import failure
from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc

FlowStub = flows_pb2_grpc.FlowServiceStub
LABEL = "cam\x00era"


async def test_a_label_with_nul(flows: FlowStub) -> None:
    flow = video_flow(label=LABEL)
    put = flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True))
    refused = await failure(put)
    assert refused.code.name == "INVALID_ARGUMENT"
    assert refused.reason == "INVALID_TEXT"
    missing = await failure(flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id)))
    assert missing.code.name == "NOT_FOUND"


async def test_a_filter_with_nul(flows: FlowStub) -> None:
    name = unique_tag()
    listing = flows.ListFlows(
        flows_pb2.ListFlowsRequest(
            filter=flows_pb2.FlowFilter(
                label=LABEL, tags=[common_pb2.TagFilter(name=name, values=["x\x00"])]
            )
        )
    )
    refused = await failure(listing)
    assert refused.code.name == "INVALID_ARGUMENT"
    assert refused.reason == "INVALID_TEXT"
