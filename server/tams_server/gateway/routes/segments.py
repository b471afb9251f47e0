"""``/flows/{flow_id}/segments``: listing, registering and deleting Segments."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import segments_pb2
from tams_server.gateway.body import json_body
from tams_server.gateway.errors import now_iso
from tams_server.gateway.media_shapes import segment_post_from_json, segment_to_json
from tams_server.gateway.paging import list_response
from tams_server.gateway.query import Query
from tams_server.gateway.routes.delete_requests import deletion_response
from tams_server.gateway.routes.objects import url_options
from tams_server.gateway.stubs import stubs_of

# The server's limit per RegisterSegments call (MAX_SEGMENTS_PER_CALL), checked here too
# so that a larger list is refused before any of it is translated.
MAX_SEGMENTS_PER_POST = 10_000


async def list_segments(request: Request) -> Response:
    """``GET /flows/{flow_id}/segments``."""
    query = Query(request.query_params)
    size, token = query.paging()
    reverse = query.boolean("reverse_order")
    response = await stubs_of(request).segments.ListSegments(
        segments_pb2.ListSegmentsRequest(
            flow_id=request.path_params["flow_id"], timerange=query.text("timerange") or "",
            object_id=query.text("object_id"), reverse_order=reverse, page_size=size,
            page_token=token, get_url_options=url_options(query),
            include_object_timerange=query.boolean("include_object_timerange"),
            show_deleted=query.boolean("show_deleted"),
        )
    )  # fmt: skip
    items = [segment_to_json(s) for s in response.segments]
    return list_response(
        request, response, items, reverse_order=reverse, timerange=response.timerange
    )


async def post_segments(request: Request) -> Response:
    """``POST /flows/{flow_id}/segments``: one Segment or a list; 201 when all were
    registered, 200 with the ones that failed otherwise."""
    body = await json_body(request, max_items=MAX_SEGMENTS_PER_POST)
    items = body if isinstance(body, list) else [body]
    posts = [
        segment_post_from_json(item, f"segments[{i}]" if isinstance(body, list) else "body")
        for i, item in enumerate(items)
    ]
    response = await stubs_of(request).segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=request.path_params["flow_id"],
            segments=posts,
            allocate_unknown_objects=Query(request.query_params).boolean(
                "allocate_unknown_objects"
            ),
        )
    )
    if not response.failed_segments:
        # The spec's 201 has no body; the Segments as posted break no spec client, and
        # the usage guide's clients read them.
        return JSONResponse(body, status_code=201)
    failed = [
        {
            "object_id": f.object_id,
            "timerange": f.timerange,
            "error": {"type": f.error.reason, "summary": f.error.message, "time": now_iso()},
        }
        for f in response.failed_segments
    ]
    return JSONResponse({"failed_segments": failed}, status_code=200)


async def delete_segments(request: Request) -> Response:
    """``DELETE /flows/{flow_id}/segments``."""
    query = Query(request.query_params)
    response = await stubs_of(request).segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(
            flow_id=request.path_params["flow_id"], timerange=query.text("timerange") or "",
            object_id=query.text("object_id"), soft_delete=query.boolean("soft_delete"),
            deleted_by=query.text("deleted_by"),
        )
    )  # fmt: skip
    return deletion_response(response)


ROUTES = [
    Route("/flows/{flow_id}/segments", list_segments, methods=["GET"]),
    Route("/flows/{flow_id}/segments", post_segments, methods=["POST"]),
    Route("/flows/{flow_id}/segments", delete_segments, methods=["DELETE"]),
]
