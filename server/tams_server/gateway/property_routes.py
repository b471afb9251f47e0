"""Single properties and tags of Sources and Flows (``/flows/{id}/label``,
``/flows/{id}/tags/{name}``, ...): GET reads the resource, PUT and DELETE change one
property through an update mask. Each request is one gRPC call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from google.protobuf import field_mask_pb2, json_format
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import common_pb2, flows_pb2, sources_pb2
from tams_server.gateway.body import json_body
from tams_server.gateway.errors import error_response
from tams_server.gateway.query import BadRequest
from tams_server.gateway.shapes import JsonObject, flow_from_json, flow_to_json, source_to_json
from tams_server.gateway.stubs import Stubs

# Property -> (check of a PUT body, whether it may be deleted).
_STRING = (lambda v: isinstance(v, str), "a JSON string")
_COUNT = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0")
_BOOL = (lambda v: isinstance(v, bool), "true or false")
_LIST = (lambda v: isinstance(v, list), "an array of collection items")
FLOW_PROPERTIES: dict[str, tuple[tuple[Callable[[Any], bool], str], bool]] = {
    "label": (_STRING, True),
    "description": (_STRING, True),
    "read_only": (_BOOL, False),
    "max_bit_rate": (_COUNT, True),
    "avg_bit_rate": (_COUNT, True),
    "flow_collection": (_LIST, True),
}
SOURCE_PROPERTIES = {"label": (_STRING, True), "description": (_STRING, True)}
Reader = Callable[[str], Awaitable[JsonObject]]


def tag_value(body: Any) -> common_pb2.TagValue:
    """A tag value from a PUT body: a JSON string or an array of strings."""
    if isinstance(body, str):
        return common_pb2.TagValue(string_value=body)
    if isinstance(body, list) and all(isinstance(item, str) for item in body):
        return common_pb2.TagValue(list_value=common_pb2.StringList(values=body))
    raise BadRequest("a tag value is a JSON string or an array of strings")


def property_routes(stubs: Stubs) -> list[Route]:
    """Property and tag routes of Flows and Sources."""

    async def read_flow(flow_id: str) -> JsonObject:
        response = await stubs.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id))
        return flow_to_json(response.flow)

    async def read_source(source_id: str) -> JsonObject:
        response = await stubs.sources.GetSource(sources_pb2.GetSourceRequest(source_id=source_id))
        return source_to_json(response.source)

    async def update_flow(flow_id: str, name: str, value: Any) -> None:
        body = {"id": flow_id} if value is None else {"id": flow_id, name: value}
        try:
            flow = flow_from_json(body)
        except (json_format.ParseError, TypeError, ValueError) as error:
            raise BadRequest(f"not a valid {name}: {error}") from None
        mask = field_mask_pb2.FieldMask(paths=[name])
        await stubs.flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=flow, update_mask=mask))

    async def update_source(source_id: str, name: str, value: Any) -> None:
        source = sources_pb2.Source(id=source_id)
        if value is not None:
            setattr(source, name, value)
        mask = field_mask_pb2.FieldMask(paths=[name])
        await stubs.sources.UpdateSource(
            sources_pb2.UpdateSourceRequest(source=source, update_mask=mask)
        )

    async def flow_tag(request: Request) -> Response:
        flow_id, name = request.path_params["id"], request.path_params["name"]
        if request.method == "PUT":
            value = tag_value(await json_body(request))
            await stubs.flows.SetFlowTag(
                flows_pb2.SetFlowTagRequest(flow_id=flow_id, name=name, value=value)
            )
            return Response(status_code=204)
        await stubs.flows.DeleteFlowTag(flows_pb2.DeleteFlowTagRequest(flow_id=flow_id, name=name))
        return Response(status_code=204)

    async def source_tag(request: Request) -> Response:
        source_id, name = request.path_params["id"], request.path_params["name"]
        if request.method == "PUT":
            value = tag_value(await json_body(request))
            await stubs.sources.SetSourceTag(
                sources_pb2.SetSourceTagRequest(source_id=source_id, name=name, value=value)
            )
            return Response(status_code=204)
        await stubs.sources.DeleteSourceTag(
            sources_pb2.DeleteSourceTagRequest(source_id=source_id, name=name)
        )
        return Response(status_code=204)

    routes: list[Route] = []
    for kind, read, tag_route in (
        ("flows", read_flow, flow_tag),
        ("sources", read_source, source_tag),
    ):
        routes += _tag_reads(kind, read)
        routes.append(Route(f"/{kind}/{{id}}/tags/{{name}}", tag_route, methods=["PUT", "DELETE"]))
    for name, (check, deletable) in FLOW_PROPERTIES.items():
        routes += _property(f"/flows/{{id}}/{name}", name, check, deletable, read_flow, update_flow)
    for name, (check, deletable) in SOURCE_PROPERTIES.items():
        routes += _property(
            f"/sources/{{id}}/{name}", name, check, deletable, read_source, update_source
        )
    return routes


def _tag_reads(kind: str, read: Reader) -> list[Route]:
    async def all_tags(request: Request) -> Response:
        return JSONResponse((await read(request.path_params["id"])).get("tags", {}))

    async def one_tag(request: Request) -> Response:
        tags = (await read(request.path_params["id"])).get("tags", {})
        name = request.path_params["name"]
        if name not in tags:
            return error_response(404, common_pb2.ERROR_REASON_TAG_NOT_FOUND, f"no tag {name!r}")
        return JSONResponse(tags[name])

    return [
        Route(f"/{kind}/{{id}}/tags", all_tags, methods=["GET"]),
        Route(f"/{kind}/{{id}}/tags/{{name}}", one_tag, methods=["GET"]),
    ]


def _property(
    path: str,
    name: str,
    check: tuple[Callable[[Any], bool], str],
    deletable: bool,
    read: Reader,
    update: Callable[[str, str, Any], Awaitable[None]],
) -> list[Route]:
    valid, expected = check

    async def get(request: Request) -> Response:
        resource = await read(request.path_params["id"])
        if name == "read_only":
            return JSONResponse(resource.get(name, False))
        if name not in resource:
            return error_response(
                404, common_pb2.ERROR_REASON_PROPERTY_NOT_SET, f"{name} is not set"
            )
        return JSONResponse(resource[name])

    async def put(request: Request) -> Response:
        value = await json_body(request)
        if not valid(value):
            raise BadRequest(f"{name} must be {expected}")
        await update(request.path_params["id"], name, value)
        return Response(status_code=204)

    async def delete(request: Request) -> Response:
        await update(request.path_params["id"], name, None)
        return Response(status_code=204)

    routes = [Route(path, get, methods=["GET"]), Route(path, put, methods=["PUT"])]
    if deletable:
        routes.append(Route(path, delete, methods=["DELETE"]))
    return routes
