"""Conversions shared by every resource: tags, collections, times, JSON-shaped parts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message import Message

from tams.v1 import common_pb2, flows_pb2, sources_pb2
from tams_server.domain.flows import check_tag_name
from tams_server.domain.models import CollectionItem, JsonObject, Resource
from tams_server.domain.tags import TagEdit, TagFilter, TagValue


def tag_value_to_domain(value: common_pb2.TagValue) -> TagValue:
    """A proto tag value; unset counts as the empty string."""
    if value.WhichOneof("kind") == "list_value":
        return tuple(value.list_value.values)
    return value.string_value


def tag_edit_to_domain(name: str, value: common_pb2.TagValue | None = None) -> TagEdit:
    """What a SetTag (``value`` given) or DeleteTag request changes."""
    return TagEdit(
        check_tag_name(name, "name"), None if value is None else tag_value_to_domain(value)
    )


def tags_to_domain(tags: Mapping[str, common_pb2.TagValue]) -> dict[str, TagValue]:
    """A proto tag map."""
    return {name: tag_value_to_domain(value) for name, value in tags.items()}


def fill_tags(target: Any, tags: Mapping[str, TagValue]) -> None:
    """Copy domain tags into a proto map field."""
    for name, value in tags.items():
        if isinstance(value, str):
            target[name].string_value = value
        else:
            target[name].list_value.values.extend(value)


def tag_filters_to_domain(filters: Iterable[common_pb2.TagFilter]) -> tuple[TagFilter, ...]:
    """Proto tag filters."""
    return tuple(
        TagFilter(
            name=f.name,
            values=tuple(f.values),
            exists=f.exists if f.HasField("exists") else None,
        )
        for f in filters
    )


ResourceMessage = sources_pb2.Source | flows_pb2.Flow


def resource_to_domain(message: ResourceMessage) -> dict[str, Any]:
    """The writable ``Resource`` fields of a Source or Flow message, as keyword
    arguments (``id`` aside, which each kind passes in its place)."""
    return {
        "label": optional(message, "label"),
        "description": optional(message, "description"),
        "created_by": optional(message, "created_by"),
        "updated_by": optional(message, "updated_by"),
        "tags": tags_to_domain(message.tags),
    }


def fill_resource(message: ResourceMessage, resource: Resource) -> None:
    """Copy the ``Resource`` fields (``id`` aside) into a Source or Flow message."""
    for name in ("label", "description", "created_by", "updated_by", "deleted_by"):
        value = getattr(resource, name)
        if value is not None:
            setattr(message, name, value)
    message.collected_by.extend(resource.collected_by)
    fill_tags(message.tags, resource.tags)
    set_time(message.created, resource.created_ns)
    set_time(message.deleted, resource.deleted_ns)


def message_to_json(message: Message) -> JsonObject:
    """A typed sub-message (essence parameters, container mapping) in its TAMS JSON
    shape. Every field of these messages is a string, bool, int32 or nested message,
    and presence is explicit, so the JSON is exact."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def json_to_message(data: JsonObject, message: Message) -> None:
    """Fill ``message`` from its TAMS JSON shape, as stored by ``message_to_json``.

    The constructor takes nested dicts for message fields and is ~25x faster than
    ``json_format.ParseDict``; this runs for every Flow of every listing page.
    """
    message.CopyFrom(type(message)(**data))


def collection_to_domain(
    items: Iterable[common_pb2.CollectionItem],
) -> tuple[CollectionItem, ...]:
    """Proto collection items."""
    return tuple(
        CollectionItem(
            id=item.id,
            role=item.role if item.HasField("role") else None,
            container_mapping=(
                message_to_json(item.container_mapping)
                if item.HasField("container_mapping")
                else None
            ),
        )
        for item in items
    )


def fill_collection(target: Any, items: Iterable[CollectionItem]) -> None:
    """Copy domain collection items into a repeated proto field."""
    for item in items:
        message = target.add(id=item.id)
        if item.role is not None:
            message.role = item.role
        if item.container_mapping is not None:
            json_to_message(item.container_mapping, message.container_mapping)


def set_time(target: timestamp_pb2.Timestamp, ns: int | None) -> None:
    """Set a Timestamp field from nanoseconds, leaving it unset for None."""
    if ns is not None:
        target.FromNanoseconds(ns)


def fill_task_error(target: Any, error: JsonObject | None) -> None:
    """Copy a stored task error (``type``, ``summary``, ``time_ns``) into a TaskError
    field, leaving it unset when there is none."""
    if error:
        target.type = str(error.get("type", ""))
        target.summary = str(error.get("summary", ""))
        set_time(target.time, error.get("time_ns"))


def optional(message: Message, field: str) -> Any:
    """The value of an optional/message field, or None when unset."""
    return getattr(message, field) if message.HasField(field) else None
