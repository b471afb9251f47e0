"""Tags of Flows and Sources, one by one: ``/flows/{id}/tags`` and
``/flows/{id}/tags/{name}`` (and the same under ``/sources``)."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import common_pb2
from tams_server.gateway.body import json_body
from tams_server.gateway.errors import error_response
from tams_server.gateway.query import BadRequest
from tams_server.gateway.routes.resources import RESOURCES, Resource
from tams_server.gateway.stubs import stubs_of


def tag_value(body: Any) -> common_pb2.TagValue:
    """A tag value from a PUT body: a JSON string or an array of strings."""
    if isinstance(body, str):
        return common_pb2.TagValue(string_value=body)
    if isinstance(body, list) and all(isinstance(item, str) for item in body):
        return common_pb2.TagValue(list_value=common_pb2.StringList(values=body))
    raise BadRequest("a tag value is a JSON string or an array of strings")


async def get_tags(resource: Resource, request: Request) -> Response:
    """``GET /{collection}/{id}/tags``."""
    read = await resource.read(stubs_of(request), request.path_params["id"])
    return JSONResponse(read.get("tags", {}))


async def get_tag(resource: Resource, request: Request) -> Response:
    """``GET /{collection}/{id}/tags/{name}``; 404 for a tag it does not have."""
    read = await resource.read(stubs_of(request), request.path_params["id"])
    tags, name = read.get("tags", {}), request.path_params["name"]
    if name not in tags:
        return error_response(404, common_pb2.ERROR_REASON_TAG_NOT_FOUND, f"no tag {name!r}")
    return JSONResponse(tags[name])


async def put_tag(resource: Resource, request: Request) -> Response:
    """``PUT /{collection}/{id}/tags/{name}``."""
    value = tag_value(await json_body(request))
    await resource.set_tag(
        stubs_of(request), request.path_params["id"], request.path_params["name"], value
    )
    return Response(status_code=204)


async def put_tags(resource: Resource, request: Request) -> Response:
    """``PUT /{collection}/{id}/tags`` (usage guide): all the tags at once, replacing
    those it had; 204 (the guide's dialect answers 200 with them)."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object of tags", where=("body",), kind="type",
                         message="tags are a JSON object")  # fmt: skip
    for name, value in body.items():
        try:
            tag_value(value)
        except BadRequest:
            message = "a tag value is a JSON string or an array of strings"
            raise BadRequest(f"the body.{name}: {message}", where=("body", name), kind="type",
                             message=message) from None  # fmt: skip
    await resource.update(stubs_of(request), request.path_params["id"], "tags", body)
    return Response(status_code=204)


def put_tags_routes() -> list[Route]:
    """``PUT /{collection}/{id}/tags`` of Flows and Sources (the guide's dialect serves
    them)."""
    return [
        Route(f"/{resource.collection}/{{id}}/tags", partial(put_tags, resource), methods=["PUT"])
        for resource in RESOURCES.values()
    ]


async def delete_tag(resource: Resource, request: Request) -> Response:
    """``DELETE /{collection}/{id}/tags/{name}``."""
    await resource.delete_tag(
        stubs_of(request), request.path_params["id"], request.path_params["name"]
    )
    return Response(status_code=204)


def _routes(resource: Resource) -> list[Route]:
    tags = f"/{resource.collection}/{{id}}/tags"
    return [
        Route(tags, partial(get_tags, resource), methods=["GET"]),
        Route(f"{tags}/{{name}}", partial(get_tag, resource), methods=["GET"]),
        Route(f"{tags}/{{name}}", partial(put_tag, resource), methods=["PUT"]),
        Route(f"{tags}/{{name}}", partial(delete_tag, resource), methods=["DELETE"]),
    ]


ROUTES = [route for resource in RESOURCES.values() for route in _routes(resource)]
