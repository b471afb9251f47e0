"""``/objects/{object_id}``: an Object with the Flows that use it, and its
instances (copies on backends, or uncontrolled URLs)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import objects_pb2
from tams_server.gateway.body import json_body
from tams_server.gateway.media_shapes import object_to_json
from tams_server.gateway.paging import paging_headers
from tams_server.gateway.query import BadRequest, Query
from tams_server.gateway.stubs import stubs_of


def url_options(query: Query) -> objects_pb2.GetUrlOptions:
    """The ``get_urls`` filters of a request (TAMS query parameters)."""
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


async def get_object(request: Request) -> Response:
    """``GET /objects/{object_id}``: the Flows that use it come a page at a time."""
    query = Query(request.query_params)
    size, token = query.paging()
    response = await stubs_of(request).objects.GetObject(
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
    """``POST /objects/{object_id}/instances``: a copy on a backend, or a URL."""
    body = await json_body(request)
    add = objects_pb2.AddObjectInstanceRequest(object_id=request.path_params["object_id"])
    if isinstance(body, dict) and set(body) == {"storage_id"}:
        add.storage_id = str(body["storage_id"])
    elif isinstance(body, dict) and set(body) == {"url", "label"}:
        add.uncontrolled.url, add.uncontrolled.label = str(body["url"]), str(body["label"])
    else:
        raise BadRequest('the body is {"storage_id": ...} or {"url": ..., "label": ...}')
    response = await stubs_of(request).objects.AddObjectInstance(add)
    return JSONResponse(object_to_json(response.object), status_code=201)


async def delete_instance(request: Request) -> Response:
    """``DELETE /objects/{object_id}/instances?storage_id=...`` (or ``label=...``)."""
    query = Query(request.query_params)
    remove = objects_pb2.DeleteObjectInstanceRequest(object_id=request.path_params["object_id"])
    storage_id, label = query.text("storage_id"), query.text("label")
    if (storage_id is None) == (label is None):
        raise BadRequest("give storage_id or label (one of them)")
    if storage_id is not None:
        remove.storage_id = storage_id
    else:
        remove.label = label or ""
    await stubs_of(request).objects.DeleteObjectInstance(remove)
    return Response(status_code=204)


ROUTES = [
    Route("/objects/{object_id:path}/instances", add_instance, methods=["POST"]),
    Route("/objects/{object_id:path}/instances", delete_instance, methods=["DELETE"]),
    Route("/objects/{object_id:path}", get_object, methods=["GET"]),
]
