"""``/flows/{id}/segments``, ``/flows/{id}/storage``, ``/objects/{id}`` and
``/flow-delete-requests``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import flow_delete_requests_pb2, objects_pb2, segments_pb2
from tams_server.gateway.body import json_body
from tams_server.gateway.errors import now_iso
from tams_server.gateway.media_shapes import (
    allocated_to_json,
    allocation_request_from_json,
    delete_request_to_json,
    object_to_json,
    segment_post_from_json,
    segment_to_json,
)
from tams_server.gateway.paging import ListShape, paging_headers
from tams_server.gateway.query import BadRequest, Query, one_of
from tams_server.gateway.stubs import Stubs

_DELETION_SORT = {
    "created": flow_delete_requests_pb2.FLOW_DELETE_REQUEST_SORT_KEY_CREATED,
    "expiry": flow_delete_requests_pb2.FLOW_DELETE_REQUEST_SORT_KEY_EXPIRY,
}


def url_options(query: Query) -> objects_pb2.GetUrlOptions:
    """The ``get_urls`` filters of a listing (TAMS query parameters)."""
    options = objects_pb2.GetUrlOptions(
        accept_get_urls=query.csv("accept_get_urls"),
        accept_get_urls_set=query.has("accept_get_urls"),
        accept_storage_ids=query.csv("accept_storage_ids"),
        verbose_storage=query.boolean("verbose_storage"),
        storage_backend_tags=query.tag_filters("storage_backend_tag"),
    )
    if query.has("presigned"):
        options.presigned = query.boolean("presigned")
    return options


def segment_routes(stubs: Stubs, lists: ListShape) -> list[Route]:
    """The routes of Segments, storage, Objects and flow delete requests."""

    async def list_segments(request: Request) -> Response:
        query = Query(request.query_params)
        size, token = query.paging()
        reverse = query.boolean("reverse_order")
        response = await stubs.segments.ListSegments(
            segments_pb2.ListSegmentsRequest(
                flow_id=request.path_params["flow_id"], timerange=query.text("timerange") or "",
                object_id=query.text("object_id"), reverse_order=reverse, page_size=size,
                page_token=token, get_url_options=url_options(query),
                include_object_timerange=query.boolean("include_object_timerange"),
                show_deleted=query.boolean("show_deleted"),
            )
        )  # fmt: skip
        headers = paging_headers(
            request, next_token=response.next_page_token, limit=response.page_size,
            count=len(response.segments), reverse_order=reverse, timerange=response.timerange,
        )  # fmt: skip
        return lists.respond([segment_to_json(s) for s in response.segments], headers)

    async def post_segments(request: Request) -> Response:
        body = await json_body(request)
        items = body if isinstance(body, list) else [body]
        posts = [
            segment_post_from_json(item, f"segments[{i}]" if isinstance(body, list) else "body")
            for i, item in enumerate(items)
        ]
        response = await stubs.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(
                flow_id=request.path_params["flow_id"], segments=posts
            )
        )
        if not response.failed_segments:
            return Response(status_code=201)
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
        query = Query(request.query_params)
        response = await stubs.segments.DeleteSegments(
            segments_pb2.DeleteSegmentsRequest(
                flow_id=request.path_params["flow_id"], timerange=query.text("timerange") or "",
                object_id=query.text("object_id"), soft_delete=query.boolean("soft_delete"),
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

    async def allocate(request: Request) -> Response:
        body = await json_body(request)
        call = stubs.storage.AllocateStorage(
            allocation_request_from_json(body, request.path_params["flow_id"])
        )
        media = [allocated_to_json(item) async for batch in call for item in batch.media_objects]
        return JSONResponse({"media_objects": media}, status_code=201)

    async def get_object(request: Request) -> Response:
        query = Query(request.query_params)
        size, token = query.paging()
        response = await stubs.objects.GetObject(
            objects_pb2.GetObjectRequest(
                object_id=request.path_params["object_id"], get_url_options=url_options(query),
                page_size=size, page_token=token, flow_tags=query.tag_filters("flow_tag"),
            )
        )  # fmt: skip
        headers = paging_headers(
            request, next_token=response.next_page_token, limit=size or 100,
            count=len(response.object.referenced_by_flows),
        )  # fmt: skip
        return JSONResponse(object_to_json(response.object), headers=headers)

    async def add_instance(request: Request) -> Response:
        body = await json_body(request)
        add = objects_pb2.AddObjectInstanceRequest(object_id=request.path_params["object_id"])
        if isinstance(body, dict) and set(body) == {"storage_id"}:
            add.storage_id = str(body["storage_id"])
        elif isinstance(body, dict) and set(body) == {"url", "label"}:
            add.uncontrolled.url, add.uncontrolled.label = str(body["url"]), str(body["label"])
        else:
            raise BadRequest('the body is {"storage_id": ...} or {"url": ..., "label": ...}')
        response = await stubs.objects.AddObjectInstance(add)
        return JSONResponse(object_to_json(response.object), status_code=201)

    async def delete_instance(request: Request) -> Response:
        query = Query(request.query_params)
        remove = objects_pb2.DeleteObjectInstanceRequest(object_id=request.path_params["object_id"])
        storage_id, label = query.text("storage_id"), query.text("label")
        if (storage_id is None) == (label is None):
            raise BadRequest("give storage_id or label (one of them)")
        if storage_id is not None:
            remove.storage_id = storage_id
        else:
            remove.label = label or ""
        await stubs.objects.DeleteObjectInstance(remove)
        return Response(status_code=204)

    async def list_deletions(request: Request) -> Response:
        query = Query(request.query_params)
        size, token = query.paging()
        reverse = query.boolean("reverse_order")
        sort_by = one_of(query.text("sort_by"), list(_DELETION_SORT), "sort_by")
        response = await stubs.deletions.ListFlowDeleteRequests(
            flow_delete_requests_pb2.ListFlowDeleteRequestsRequest(
                page_size=size, page_token=token, reverse_order=reverse,
                sort_by=(
                    _DELETION_SORT[sort_by] if sort_by
                    else flow_delete_requests_pb2.FLOW_DELETE_REQUEST_SORT_KEY_UNSPECIFIED
                ),
            )
        )  # fmt: skip
        headers = paging_headers(
            request, next_token=response.next_page_token, limit=response.page_size,
            count=len(response.delete_requests), reverse_order=reverse,
        )  # fmt: skip
        return lists.respond([delete_request_to_json(r) for r in response.delete_requests], headers)

    async def get_deletion(request: Request) -> Response:
        response = await stubs.deletions.GetFlowDeleteRequest(
            flow_delete_requests_pb2.GetFlowDeleteRequestRequest(
                request_id=request.path_params["request_id"]
            )
        )
        return JSONResponse(delete_request_to_json(response.delete_request))

    return [
        Route("/flows/{flow_id}/segments", list_segments, methods=["GET"]),
        Route("/flows/{flow_id}/segments", post_segments, methods=["POST"]),
        Route("/flows/{flow_id}/segments", delete_segments, methods=["DELETE"]),
        Route("/flows/{flow_id}/storage", allocate, methods=["POST"]),
        Route("/objects/{object_id:path}/instances", add_instance, methods=["POST"]),
        Route("/objects/{object_id:path}/instances", delete_instance, methods=["DELETE"]),
        Route("/objects/{object_id:path}", get_object, methods=["GET"]),
        Route("/flow-delete-requests", list_deletions, methods=["GET"]),
        Route("/flow-delete-requests/{request_id}", get_deletion, methods=["GET"]),
    ]
