"""``/flows``: the listing with the spec's filters, single Flows, PUT (201 created,
204 replaced), DELETE (204, or 202 with a flow delete request) and the usage guide's
batch creation; POST (extension) creates one Flow with a given or new id."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import flows_pb2
from tams_server.gateway.body import STORED, batch_items, json_body, parse_object
from tams_server.gateway.listing import collected_by_filter, listing_fields, listing_response
from tams_server.gateway.query import Query
from tams_server.gateway.routes.delete_requests import deletion_response
from tams_server.gateway.shapes import (
    flow_from_json,
    flow_to_json,
    widened_flow_json,
    widened_flows_json,
)
from tams_server.gateway.stubs import stubs_of

_SORT = {
    "created": flows_pb2.FLOW_SORT_KEY_CREATED,
    "metadata_updated": flows_pb2.FLOW_SORT_KEY_METADATA_UPDATED,
    "label": flows_pb2.FLOW_SORT_KEY_LABEL,
}


async def list_flows(request: Request) -> Response:
    """``GET /flows``, with the spec's filters (and the extension ``label_prefix``)."""
    query = Query(request.query_params)
    listing = listing_fields(query, _SORT, flows_pb2.FLOW_SORT_KEY_UNSPECIFIED)
    flow_filter = flows_pb2.FlowFilter(
        source_id=query.text("source_id"), timerange=query.text("timerange"),
        format=query.text("format"), codec=query.text("codec"), label=query.text("label"),
        label_prefix=query.text("label_prefix"),
        frame_width=query.integer("frame_width"), frame_height=query.integer("frame_height"),
        tags=query.tag_filters(), profile_id=query.text("profile_id"),
        status=query.text("status"), **collected_by_filter(query),
    )  # fmt: skip
    if query.has("init_segments"):
        flow_filter.init_segments = query.boolean("init_segments")
    response = await stubs_of(request).flows.ListFlows(
        flows_pb2.ListFlowsRequest(filter=flow_filter, **listing)
    )
    return listing_response(request, response, [flow_to_json(f) for f in response.flows], listing)


async def get_flow(request: Request) -> Response:
    """``GET /flows/{flow_id}``."""
    query = Query(request.query_params)
    response = await stubs_of(request).flows.GetFlow(
        flows_pb2.GetFlowRequest(
            flow_id=request.path_params["flow_id"],
            include_timerange=query.boolean("include_timerange"),
            timerange=query.text("timerange") or "",
            show_deleted=query.boolean("show_deleted"),
        )
    )
    return JSONResponse(flow_to_json(response.flow))


async def put_flow(request: Request) -> Response:
    """``PUT /flows/{flow_id}``: 201 with the Flow when created, 204 when replaced."""
    flow_id = request.path_params["flow_id"]
    body = await json_body(request, path_id=flow_id, prepare=widened_flow_json)
    flow = parse_object(body, lambda data: flow_from_json({**data, "id": flow_id}), "the Flow")
    response = await stubs_of(request).flows.UpdateFlow(
        flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True)
    )
    if response.created:
        return JSONResponse(flow_to_json(response.flow), status_code=201)
    # The spec answers a replacement without a body; the Flow as stored is kept for a
    # dialect that shows it (the usage guide's answers 200 with it).
    setattr(request.state, STORED, flow_to_json(response.flow))
    return Response(status_code=204)


async def create_flow(request: Request) -> Response:
    """``POST /flows`` (extension): create a Flow with the body's id, or a new one; 201
    with the Flow and its Location. An id already taken is 400."""
    body = await json_body(request, prepare=_with_new_id)
    flow = parse_object(body, flow_from_json, "the Flow")
    response = await stubs_of(request).flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    created = response.flow
    return JSONResponse(
        flow_to_json(created), status_code=201, headers={"Location": f"/flows/{created.id}"}
    )


def _with_new_id(data: Any) -> Any:
    data = widened_flow_json(data)
    if isinstance(data, dict) and "id" not in data:
        data["id"] = str(uuid.uuid4())
    return data


async def delete_flow(request: Request) -> Response:
    """``DELETE /flows/{flow_id}``."""
    query = Query(request.query_params)
    response = await stubs_of(request).flows.DeleteFlow(
        flows_pb2.DeleteFlowRequest(
            flow_id=request.path_params["flow_id"], soft_delete=query.boolean("soft_delete"),
            deleted_by=query.text("deleted_by"),
        )
    )  # fmt: skip
    return deletion_response(response)


async def create_flows(request: Request) -> Response:
    """``POST /flows/batch`` (usage guide): all or none."""
    body = await json_body(request, prepare=widened_flows_json)
    flows = batch_items(body, "flows", flow_from_json)
    response = await stubs_of(request).flows.BatchCreateFlows(
        flows_pb2.BatchCreateFlowsRequest(flows=flows)
    )
    return JSONResponse({"flows": [flow_to_json(f) for f in response.flows]}, status_code=201)


ROUTES = [
    Route("/flows", list_flows, methods=["GET"]),
    Route("/flows", create_flow, methods=["POST"]),
    Route("/flows/batch", create_flows, methods=["POST"]),
    Route("/flows/{flow_id}", get_flow, methods=["GET"]),
    Route("/flows/{flow_id}", put_flow, methods=["PUT"]),
    Route("/flows/{flow_id}", delete_flow, methods=["DELETE"]),
]
