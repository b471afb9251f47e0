"""``/``, ``/service`` and ``/service/storage-backends``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import service_info_pb2, storage_pb2
from tams_server.gateway.body import json_body
from tams_server.gateway.media_shapes import backend_to_json, service_to_json
from tams_server.gateway.paging import paging_headers
from tams_server.gateway.query import BadRequest, Query
from tams_server.gateway.stubs import Stubs

ROOT_PATHS = ["service", "flows", "sources", "flow-delete-requests"]


def service_routes(stubs: Stubs) -> list[Route]:
    """The routes of the service description."""

    async def root(request: Request) -> Response:
        return JSONResponse(ROOT_PATHS)

    async def get_service(request: Request) -> Response:
        response = await stubs.service.GetService(service_info_pb2.GetServiceRequest())
        return JSONResponse(service_to_json(response.service))

    async def post_service(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict) or set(body) - {"name", "description"}:
            raise BadRequest("the body takes name and description only")
        update = service_info_pb2.UpdateServiceRequest()
        for name in ("name", "description"):
            if name in body:
                if not isinstance(body[name], str):
                    raise BadRequest(f"{name} must be a string")
                setattr(update, name, body[name])
        await stubs.service.UpdateService(update)
        return Response(status_code=200)

    async def storage_backends(request: Request) -> Response:
        query = Query(request.query_params)
        size, token = query.paging()
        reverse = query.boolean("reverse_order")
        response = await stubs.storage.ListStorageBackends(
            storage_pb2.ListStorageBackendsRequest(
                page_size=size, page_token=token, tags=query.tag_filters(), reverse_order=reverse
            )
        )
        headers = paging_headers(
            request, next_token=response.next_page_token, limit=response.page_size,
            count=len(response.storage_backends), reverse_order=reverse,
        )  # fmt: skip
        return JSONResponse(
            [backend_to_json(b) for b in response.storage_backends], headers=headers
        )

    return [
        Route("/", root, methods=["GET"]),
        Route("/service", get_service, methods=["GET"]),
        Route("/service", post_service, methods=["POST"]),
        Route("/service/storage-backends", storage_backends, methods=["GET"]),
    ]
