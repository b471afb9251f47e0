"""``/``, ``/service``, ``/service/storage-backends`` and ``/service/profiles``."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import service_info_pb2, storage_pb2
from tams_server.gateway.body import json_body, parse_object
from tams_server.gateway.media_shapes import backend_to_json, service_to_json
from tams_server.gateway.paging import ListShape, paging_headers
from tams_server.gateway.query import BadRequest, Query
from tams_server.gateway.shapes import profile_from_json, profile_to_json
from tams_server.gateway.stubs import Stubs

ROOT_PATHS = ["service", "flows", "sources", "flow-delete-requests"]


def service_routes(stubs: Stubs, lists: ListShape) -> list[Route]:
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
        return lists.respond([backend_to_json(b) for b in response.storage_backends], headers)

    return [
        Route("/", root, methods=["GET"]),
        Route("/service", get_service, methods=["GET"]),
        Route("/service", post_service, methods=["POST"]),
        Route("/service/storage-backends", storage_backends, methods=["GET"]),
    ]


def profile_routes(stubs: Stubs, lists: ListShape) -> list[Route]:
    """``/service/profiles`` and ``/service/profiles/{id}``."""

    async def list_profiles(request: Request) -> Response:
        query = Query(request.query_params)
        size, token = query.paging()
        response = await stubs.service.ListProfiles(
            service_info_pb2.ListProfilesRequest(
                page_size=size, page_token=token, format=query.text("format"),
                codec=query.text("codec"), label=query.text("label"),
            )
        )  # fmt: skip
        headers = paging_headers(
            request, next_token=response.next_page_token, limit=response.page_size,
            count=len(response.profiles),
        )  # fmt: skip
        return lists.respond([profile_to_json(p) for p in response.profiles], headers)

    async def get_profile(request: Request) -> Response:
        response = await stubs.service.GetProfile(
            service_info_pb2.GetProfileRequest(profile_id=request.path_params["profile_id"])
        )
        return JSONResponse(profile_to_json(response.profile))

    async def create_profile(request: Request) -> Response:
        body = await json_body(request)
        profile_id = request.path_params["profile_id"]
        if isinstance(body, Mapping) and body.get("id", profile_id) != profile_id:
            raise BadRequest(f"the body's id {body.get('id')!r} is not the path's {profile_id}")
        profile = parse_object(
            body, lambda data: profile_from_json({**data, "id": profile_id}), "the Profile"
        )
        response = await stubs.service.CreateProfile(
            service_info_pb2.CreateProfileRequest(profile=profile)
        )
        return JSONResponse(profile_to_json(response.profile), status_code=201)

    return [
        Route("/service/profiles", list_profiles, methods=["GET"]),
        Route("/service/profiles/{profile_id}", get_profile, methods=["GET"]),
        Route("/service/profiles/{profile_id}", create_profile, methods=["POST"]),
    ]
