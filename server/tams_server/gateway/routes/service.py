"""``/``, ``/service`` and ``/service/storage-backends``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import service_info_pb2, storage_pb2
from tams_server.gateway.body import json_body
from tams_server.gateway.listing import tagged_listing_fields
from tams_server.gateway.media_shapes import backend_to_json, service_to_json
from tams_server.gateway.paging import list_response
from tams_server.gateway.query import BadRequest, Query
from tams_server.gateway.stubs import stubs_of

ROOT_PATHS = ["service", "flows", "sources", "flow-delete-requests"]


async def root(request: Request) -> Response:
    """``GET /``: the paths below it."""
    return JSONResponse(ROOT_PATHS)


async def get_service(request: Request) -> Response:
    """``GET /service``."""
    response = await stubs_of(request).service.GetService(service_info_pb2.GetServiceRequest())
    return JSONResponse(service_to_json(response.service))


async def post_service(request: Request) -> Response:
    """``POST /service``: a new name or description."""
    body = await json_body(request)
    if not isinstance(body, dict) or set(body) - {"name", "description"}:
        raise BadRequest("the body takes name and description only")
    update = service_info_pb2.UpdateServiceRequest()
    for name in ("name", "description"):
        if name in body:
            if not isinstance(body[name], str):
                raise BadRequest(f"{name} must be a string")
            setattr(update, name, body[name])
    await stubs_of(request).service.UpdateService(update)
    return Response(status_code=200)


async def list_storage_backends(request: Request) -> Response:
    """``GET /service/storage-backends``."""
    fields = tagged_listing_fields(Query(request.query_params))
    response = await stubs_of(request).storage.ListStorageBackends(
        storage_pb2.ListStorageBackendsRequest(**fields)
    )
    items = [backend_to_json(b) for b in response.storage_backends]
    return list_response(request, response, items, reverse_order=fields["reverse_order"])


ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/service", get_service, methods=["GET"]),
    Route("/service", post_service, methods=["POST"]),
    Route("/service/storage-backends", list_storage_backends, methods=["GET"]),
]
