"""``/sources``: the spec's listing and single Source, and the usage guide's
creation (one, or a batch) and soft deletion."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import sources_pb2
from tams_server.gateway.body import batch_items, json_body, parse_object
from tams_server.gateway.listing import collected_by_filter, listing_fields, listing_response
from tams_server.gateway.query import BadRequest, Query
from tams_server.gateway.shapes import source_from_json, source_to_json
from tams_server.gateway.stubs import stubs_of

_SORT = {
    "created": sources_pb2.SOURCE_SORT_KEY_CREATED,
    "updated": sources_pb2.SOURCE_SORT_KEY_UPDATED,
    "label": sources_pb2.SOURCE_SORT_KEY_LABEL,
}


async def list_sources(request: Request) -> Response:
    """``GET /sources``, with the spec's filters (and the extension ``label_prefix``)."""
    query = Query(request.query_params)
    listing = listing_fields(query, _SORT, sources_pb2.SOURCE_SORT_KEY_UNSPECIFIED)
    source_filter = sources_pb2.SourceFilter(
        label=query.text("label"),
        label_prefix=query.text("label_prefix"),
        format=query.text("format"),
        tags=query.tag_filters(),
        **collected_by_filter(query),
    )
    response = await stubs_of(request).sources.ListSources(
        sources_pb2.ListSourcesRequest(filter=source_filter, **listing)
    )
    items = [source_to_json(s) for s in response.sources]
    return listing_response(request, response, items, listing)


async def get_source(request: Request) -> Response:
    """``GET /sources/{source_id}``."""
    show_deleted = Query(request.query_params).boolean("show_deleted")
    response = await stubs_of(request).sources.GetSource(
        sources_pb2.GetSourceRequest(
            source_id=request.path_params["source_id"], show_deleted=show_deleted
        )
    )
    return JSONResponse(source_to_json(response.source))


async def create_source(request: Request) -> Response:
    """``POST /sources`` (usage guide): 201 with the Source and its Location."""
    source = parse_object(await json_body(request), source_from_json, "the body")
    response = await stubs_of(request).sources.CreateSource(
        sources_pb2.CreateSourceRequest(source=source)
    )
    created = response.source
    return JSONResponse(
        source_to_json(created), status_code=201, headers={"Location": f"/sources/{created.id}"}
    )


async def create_sources(request: Request) -> Response:
    """``POST /sources/batch`` (usage guide): all or none."""
    sources = batch_items(await json_body(request), "sources", source_from_json)
    response = await stubs_of(request).sources.BatchCreateSources(
        sources_pb2.BatchCreateSourcesRequest(sources=sources)
    )
    return JSONResponse({"sources": [source_to_json(s) for s in response.sources]}, status_code=201)


async def delete_source(request: Request) -> Response:
    """``DELETE /sources/{source_id}?soft_delete=true`` (usage guide), with the live
    Flows that render it when ``delete_flows=true`` (the guide dialect's default)."""
    query = Query(request.query_params)
    if query.has("soft_delete") and not query.boolean("soft_delete"):
        raise BadRequest(
            "a Source goes for good with its last Flow (TAMS ADR 0018); "
            "only soft_delete=true is offered here"
        )
    await stubs_of(request).sources.DeleteSource(
        sources_pb2.DeleteSourceRequest(
            source_id=request.path_params["source_id"],
            deleted_by=query.text("deleted_by"),
            with_flows=query.boolean("delete_flows"),
        )
    )
    return Response(status_code=204)


ROUTES = [
    Route("/sources", list_sources, methods=["GET"]),
    Route("/sources", create_source, methods=["POST"]),
    Route("/sources/batch", create_sources, methods=["POST"]),
    Route("/sources/{source_id}", get_source, methods=["GET"]),
    Route("/sources/{source_id}", delete_source, methods=["DELETE"]),
]
