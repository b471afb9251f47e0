"""``/sources`` and ``/flows``: listings with the spec's filters, single resources,
Flow PUT (201 created / 204 replaced) and DELETE (204, or 202 with a Location)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import flows_pb2, sources_pb2
from tams_server.gateway.body import json_body, parse_object
from tams_server.gateway.media_shapes import delete_request_to_json
from tams_server.gateway.paging import ListShape, paging_headers
from tams_server.gateway.query import BadRequest, Query, one_of
from tams_server.gateway.shapes import flow_from_json, flow_to_json, source_to_json
from tams_server.gateway.stubs import Stubs

_SOURCE_SORT = {
    "created": sources_pb2.SOURCE_SORT_KEY_CREATED,
    "updated": sources_pb2.SOURCE_SORT_KEY_UPDATED,
    "label": sources_pb2.SOURCE_SORT_KEY_LABEL,
}
_FLOW_SORT = {
    "created": flows_pb2.FLOW_SORT_KEY_CREATED,
    "metadata_updated": flows_pb2.FLOW_SORT_KEY_METADATA_UPDATED,
    "label": flows_pb2.FLOW_SORT_KEY_LABEL,
}


def flow_routes(stubs: Stubs, lists: ListShape) -> list[Route]:
    """The routes of Sources and Flows."""

    async def list_sources(request: Request) -> Response:
        query = Query(request.query_params)
        size, token = query.paging()
        reverse = query.boolean("reverse_order")
        sort_by = one_of(query.text("sort_by"), list(_SOURCE_SORT), "sort_by")
        source_filter = sources_pb2.SourceFilter(
            label=query.text("label"), format=query.text("format"), tags=query.tag_filters(),
            collected_by_ids=query.csv("collected_by_ids"),
            not_collected=query.has("collected_by_ids") and not query.csv("collected_by_ids"),
        )  # fmt: skip
        response = await stubs.sources.ListSources(
            sources_pb2.ListSourcesRequest(
                page_size=size, page_token=token, filter=source_filter, reverse_order=reverse,
                sort_by=_SOURCE_SORT.get(sort_by or "", sources_pb2.SOURCE_SORT_KEY_UNSPECIFIED),
                show_deleted=query.boolean("show_deleted"),
            )
        )  # fmt: skip
        headers = paging_headers(
            request, next_token=response.next_page_token, limit=response.page_size,
            count=len(response.sources), reverse_order=reverse,
        )  # fmt: skip
        return lists.respond([source_to_json(s) for s in response.sources], headers)

    async def get_source(request: Request) -> Response:
        show_deleted = Query(request.query_params).boolean("show_deleted")
        response = await stubs.sources.GetSource(
            sources_pb2.GetSourceRequest(
                source_id=request.path_params["source_id"], show_deleted=show_deleted
            )
        )
        return JSONResponse(source_to_json(response.source))

    async def list_flows(request: Request) -> Response:
        query = Query(request.query_params)
        size, token = query.paging()
        reverse = query.boolean("reverse_order")
        sort_by = one_of(query.text("sort_by"), list(_FLOW_SORT), "sort_by")
        flow_filter = flows_pb2.FlowFilter(
            source_id=query.text("source_id"), timerange=query.text("timerange"),
            format=query.text("format"), codec=query.text("codec"), label=query.text("label"),
            frame_width=query.integer("frame_width"), frame_height=query.integer("frame_height"),
            tags=query.tag_filters(), profile_id=query.text("profile_id"),
            status=query.text("status"), collected_by_ids=query.csv("collected_by_ids"),
            not_collected=query.has("collected_by_ids") and not query.csv("collected_by_ids"),
        )  # fmt: skip
        if query.has("init_segments"):
            flow_filter.init_segments = query.boolean("init_segments")
        response = await stubs.flows.ListFlows(
            flows_pb2.ListFlowsRequest(
                page_size=size, page_token=token, filter=flow_filter, reverse_order=reverse,
                sort_by=_FLOW_SORT.get(sort_by or "", flows_pb2.FLOW_SORT_KEY_UNSPECIFIED),
                show_deleted=query.boolean("show_deleted"),
            )
        )  # fmt: skip
        headers = paging_headers(
            request, next_token=response.next_page_token, limit=response.page_size,
            count=len(response.flows), reverse_order=reverse,
        )  # fmt: skip
        return lists.respond([flow_to_json(f) for f in response.flows], headers)

    async def get_flow(request: Request) -> Response:
        query = Query(request.query_params)
        response = await stubs.flows.GetFlow(
            flows_pb2.GetFlowRequest(
                flow_id=request.path_params["flow_id"],
                include_timerange=query.boolean("include_timerange"),
                timerange=query.text("timerange") or "",
                show_deleted=query.boolean("show_deleted"),
            )
        )
        return JSONResponse(flow_to_json(response.flow))

    async def put_flow(request: Request) -> Response:
        flow_id = request.path_params["flow_id"]
        body = await json_body(request)
        if isinstance(body, Mapping) and body.get("id", flow_id) != flow_id:
            raise BadRequest(f"the body's id {body.get('id')!r} is not the path's {flow_id}")
        flow = parse_object(body, lambda data: flow_from_json({**data, "id": flow_id}), "the Flow")
        response = await stubs.flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True)
        )
        if response.created:
            return JSONResponse(flow_to_json(response.flow), status_code=201)
        return Response(status_code=204)

    async def delete_flow(request: Request) -> Response:
        query = Query(request.query_params)
        response = await stubs.flows.DeleteFlow(
            flows_pb2.DeleteFlowRequest(
                flow_id=request.path_params["flow_id"], soft_delete=query.boolean("soft_delete"),
                deleted_by=query.text("deleted_by"),
            )
        )  # fmt: skip
        if not response.HasField("delete_request"):
            return Response(status_code=204)
        pending = response.delete_request
        return JSONResponse(
            delete_request_to_json(pending),
            status_code=202,
            headers={"Location": f"/flow-delete-requests/{pending.id}"},
        )

    return [
        Route("/sources", list_sources, methods=["GET"]),
        Route("/sources/{source_id}", get_source, methods=["GET"]),
        Route("/flows", list_flows, methods=["GET"]),
        Route("/flows/{flow_id}", get_flow, methods=["GET"]),
        Route("/flows/{flow_id}", put_flow, methods=["PUT"]),
        Route("/flows/{flow_id}", delete_flow, methods=["DELETE"]),
    ]
