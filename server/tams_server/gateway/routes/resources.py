"""The resources whose properties and tags have paths of their own (Flows and
Sources): how to read one, change one property, and set or remove one tag."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import field_mask_pb2, json_format

from tams.v1 import common_pb2, flows_pb2, sources_pb2
from tams_server.gateway.query import BadRequest
from tams_server.gateway.shapes import (
    JsonObject,
    flow_from_json,
    flow_to_json,
    source_from_json,
    source_to_json,
)
from tams_server.gateway.stubs import Stubs


@dataclass(frozen=True)
class Property:
    """A property with a path: ``/flows/{id}/label``."""

    name: str
    valid: Callable[[Any], bool]
    """Whether a PUT body is a value of it."""
    expected: str
    """What a value is, for the 400 when it is not."""
    deletable: bool = True
    unset: bool | None = None
    """What GET answers while it is not set; None: 404."""


@dataclass(frozen=True)
class Resource:
    """One kind of resource, as its property and tag routes reach it."""

    collection: str
    """The first part of its paths: ``flows``."""
    properties: tuple[Property, ...]
    read: Callable[[Stubs, str], Awaitable[JsonObject]]
    update: Callable[[Stubs, str, str, Any], Awaitable[None]]
    """Set one property (id, name, JSON value; None removes it)."""
    set_tag: Callable[[Stubs, str, str, common_pb2.TagValue], Awaitable[None]]
    delete_tag: Callable[[Stubs, str, str], Awaitable[None]]


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _text(name: str) -> Property:
    return Property(name, lambda v: isinstance(v, str), "a JSON string")


def _count(name: str) -> Property:
    return Property(name, _is_count, "an integer >= 0")


async def _read_flow(stubs: Stubs, flow_id: str) -> JsonObject:
    response = await stubs.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id))
    return flow_to_json(response.flow)


async def _update_flow(stubs: Stubs, flow_id: str, name: str, value: Any) -> None:
    body = {"id": flow_id} if value is None else {"id": flow_id, name: value}
    try:
        flow = flow_from_json(body)
    except (json_format.ParseError, TypeError, ValueError) as error:
        raise BadRequest(f"not a valid {name}: {error}") from None
    mask = field_mask_pb2.FieldMask(paths=[name])
    await stubs.flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=flow, update_mask=mask))


async def _set_flow_tag(stubs: Stubs, flow_id: str, name: str, value: common_pb2.TagValue) -> None:
    await stubs.flows.SetFlowTag(
        flows_pb2.SetFlowTagRequest(flow_id=flow_id, name=name, value=value)
    )


async def _delete_flow_tag(stubs: Stubs, flow_id: str, name: str) -> None:
    await stubs.flows.DeleteFlowTag(flows_pb2.DeleteFlowTagRequest(flow_id=flow_id, name=name))


async def _read_source(stubs: Stubs, source_id: str) -> JsonObject:
    response = await stubs.sources.GetSource(sources_pb2.GetSourceRequest(source_id=source_id))
    return source_to_json(response.source)


async def _update_source(stubs: Stubs, source_id: str, name: str, value: Any) -> None:
    if name == "tags":
        source = source_from_json({"id": source_id, "tags": value or {}})
    else:
        source = sources_pb2.Source(id=source_id)
        if value is not None:
            setattr(source, name, value)
    mask = field_mask_pb2.FieldMask(paths=[name])
    await stubs.sources.UpdateSource(
        sources_pb2.UpdateSourceRequest(source=source, update_mask=mask)
    )


async def _set_source_tag(
    stubs: Stubs, source_id: str, name: str, value: common_pb2.TagValue
) -> None:
    await stubs.sources.SetSourceTag(
        sources_pb2.SetSourceTagRequest(source_id=source_id, name=name, value=value)
    )


async def _delete_source_tag(stubs: Stubs, source_id: str, name: str) -> None:
    await stubs.sources.DeleteSourceTag(
        sources_pb2.DeleteSourceTagRequest(source_id=source_id, name=name)
    )


FLOWS = Resource(
    collection="flows",
    properties=(
        _text("label"),
        _text("description"),
        Property("read_only", lambda v: isinstance(v, bool), "true or false", False, False),
        _count("max_bit_rate"),
        _count("avg_bit_rate"),
        Property("flow_collection", lambda v: isinstance(v, list), "an array of collection items"),
    ),
    read=_read_flow,
    update=_update_flow,
    set_tag=_set_flow_tag,
    delete_tag=_delete_flow_tag,
)
SOURCES = Resource(
    collection="sources",
    properties=(_text("label"), _text("description")),
    read=_read_source,
    update=_update_source,
    set_tag=_set_source_tag,
    delete_tag=_delete_source_tag,
)
RESOURCES: Mapping[str, Resource] = {r.collection: r for r in (FLOWS, SOURCES)}
