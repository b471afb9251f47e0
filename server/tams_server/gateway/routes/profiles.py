"""``/service/profiles``: the Profiles Flows may follow."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import service_info_pb2
from tams_server.gateway.body import json_body, parse_object
from tams_server.gateway.paging import list_response
from tams_server.gateway.query import Query
from tams_server.gateway.shapes import profile_from_json, profile_to_json
from tams_server.gateway.stubs import stubs_of


async def list_profiles(request: Request) -> Response:
    """``GET /service/profiles``."""
    query = Query(request.query_params)
    size, token = query.paging()
    response = await stubs_of(request).service.ListProfiles(
        service_info_pb2.ListProfilesRequest(
            page_size=size, page_token=token, format=query.text("format"),
            codec=query.text("codec"), label=query.text("label"),
        )
    )  # fmt: skip
    return list_response(request, response, [profile_to_json(p) for p in response.profiles])


async def get_profile(request: Request) -> Response:
    """``GET /service/profiles/{profile_id}``."""
    response = await stubs_of(request).service.GetProfile(
        service_info_pb2.GetProfileRequest(profile_id=request.path_params["profile_id"])
    )
    return JSONResponse(profile_to_json(response.profile))


async def create_profile(request: Request) -> Response:
    """``POST /service/profiles/{profile_id}``."""
    profile_id = request.path_params["profile_id"]
    body = await json_body(request, path_id=profile_id)
    profile = parse_object(
        body, lambda data: profile_from_json({**data, "id": profile_id}), "the Profile"
    )
    response = await stubs_of(request).service.CreateProfile(
        service_info_pb2.CreateProfileRequest(profile=profile)
    )
    return JSONResponse(profile_to_json(response.profile), status_code=201)


ROUTES = [
    Route("/service/profiles", list_profiles, methods=["GET"]),
    Route("/service/profiles/{profile_id}", get_profile, methods=["GET"]),
    Route("/service/profiles/{profile_id}", create_profile, methods=["POST"]),
]
