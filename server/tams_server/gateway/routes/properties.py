"""Single properties of Flows and Sources (``/flows/{id}/label``, ...): GET reads
the resource, PUT and DELETE change the one property through an update mask."""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import common_pb2
from tams_server.gateway.body import json_body
from tams_server.gateway.errors import error_response
from tams_server.gateway.query import BadRequest
from tams_server.gateway.routes.resources import RESOURCES, Property, Resource
from tams_server.gateway.stubs import stubs_of


async def get_property(resource: Resource, prop: Property, request: Request) -> Response:
    """``GET /{collection}/{id}/{property}``; 404 while it is not set."""
    read = await resource.read(stubs_of(request), request.path_params["id"])
    if prop.name in read:
        return JSONResponse(read[prop.name])
    if prop.unset is not None:
        return JSONResponse(prop.unset)
    return error_response(404, common_pb2.ERROR_REASON_PROPERTY_NOT_SET, f"{prop.name} is not set")


async def put_property(resource: Resource, prop: Property, request: Request) -> Response:
    """``PUT /{collection}/{id}/{property}``."""
    value = await json_body(request)
    if not prop.valid(value):
        raise BadRequest(f"{prop.name} must be {prop.expected}")
    await resource.update(stubs_of(request), request.path_params["id"], prop.name, value)
    return Response(status_code=204)


async def delete_property(resource: Resource, prop: Property, request: Request) -> Response:
    """``DELETE /{collection}/{id}/{property}``."""
    await resource.update(stubs_of(request), request.path_params["id"], prop.name, None)
    return Response(status_code=204)


def _routes(resource: Resource, prop: Property) -> list[Route]:
    path = f"/{resource.collection}/{{id}}/{prop.name}"
    routes = [
        Route(path, partial(get_property, resource, prop), methods=["GET"]),
        Route(path, partial(put_property, resource, prop), methods=["PUT"]),
    ]
    if prop.deletable:
        routes.append(Route(path, partial(delete_property, resource, prop), methods=["DELETE"]))
    return routes


ROUTES = [
    route
    for resource in RESOURCES.values()
    for prop in resource.properties
    for route in _routes(resource, prop)
]
