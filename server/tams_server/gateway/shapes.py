"""TAMS JSON <-> tams.v1 messages, explicitly (never a blind ``MessageToDict``).

The protos follow the TAMS JSON names, so most fields map one to one; the shapes that
differ are spelt out here: tag values (string or array in JSON, a oneof in proto), the
format-specific ``essence_parameters`` (one JSON object, a oneof member per format in
proto) and server-managed fields (ignored on input, as the spec says).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from tams.v1 import common_pb2, flows_pb2, service_info_pb2, sources_pb2

JsonObject = dict[str, Any]

_ESSENCE_MEMBER = {
    "urn:x-nmos:format:video": "video",
    "urn:x-nmos:format:audio": "audio",
    "urn:x-tam:format:image": "image",
    "urn:x-nmos:format:data": "data",
    "urn:x-nmos:format:multi": "multi",
}
_ESSENCE_MEMBERS = frozenset(_ESSENCE_MEMBER.values())

# Server-managed fields a client may send but the service ignores (TAMS: "SHOULD
# ignore this if given in a PUT request").
FLOW_READ_ONLY_FIELDS = frozenset(
    {"created", "metadata_updated", "segments_updated", "timerange", "collected_by"}
)
SOURCE_READ_ONLY_FIELDS = frozenset({"created", "updated", "source_collection", "collected_by"})


def tag_value_from_json(value: str | list[str]) -> JsonObject:
    """A TAMS tag value in the proto's JSON shape."""
    if isinstance(value, str):
        return {"string_value": value}
    return {"list_value": {"values": list(value)}}


def tags_from_json(tags: Mapping[str, str | list[str]]) -> JsonObject:
    """TAMS tags in the proto's JSON shape."""
    return {name: tag_value_from_json(value) for name, value in tags.items()}


def tags_to_json(tags: Mapping[str, common_pb2.TagValue]) -> dict[str, str | list[str]]:
    """Proto tags in the TAMS shape."""
    return {
        name: list(value.list_value.values)
        if value.WhichOneof("kind") == "list_value"
        else value.string_value
        for name, value in tags.items()
    }


_RATIONAL = re.compile(r"([1-9][0-9]{0,9})(?:/([1-9][0-9]{0,9}))?")


def rational_from_text(value: Any) -> Any:
    """A rational written ``"25/1"`` or ``"25"`` as the spec's ``{"numerator",
    "denominator"}``; any other value unchanged (for the schema check to judge)."""
    if not isinstance(value, str):
        return value
    match = _RATIONAL.fullmatch(value.strip())
    if match is None:
        return value
    return {"numerator": int(match[1]), "denominator": int(match[2] or 1)}


def widened_flow_json(data: Any) -> Any:
    """A Flow body with the forms the gateway takes beyond the spec's written as the
    spec's: ``frame_rate: "25/1"`` (as well as the rational object)."""
    if not isinstance(data, dict):
        return data
    essence = data.get("essence_parameters")
    if isinstance(essence, dict) and isinstance(essence.get("frame_rate"), str):
        data["essence_parameters"] = {
            **essence,
            "frame_rate": rational_from_text(essence["frame_rate"]),
        }
    return data


def widened_flows_json(data: Any) -> Any:
    """``widened_flow_json`` of each Flow of a batch body (``{"flows": [...]}``)."""
    if isinstance(data, dict) and isinstance(data.get("flows"), list):
        data["flows"] = [widened_flow_json(flow) for flow in data["flows"]]
    return data


def flow_from_json(data: Mapping[str, Any]) -> flows_pb2.Flow:
    """A Flow message from TAMS Flow JSON (`flow-put.json`)."""
    body = {key: value for key, value in data.items() if key not in FLOW_READ_ONLY_FIELDS}
    essence = body.pop("essence_parameters", None)
    if essence is not None:
        body[_ESSENCE_MEMBER.get(body.get("format", ""), "multi")] = essence
    if "tags" in body:
        body["tags"] = tags_from_json(body["tags"])
    return json_format.ParseDict(body, flows_pb2.Flow())


def flow_to_json(flow: flows_pb2.Flow) -> JsonObject:
    """TAMS Flow JSON (`flow-get.json`) from a Flow message."""
    data = json_format.MessageToDict(flow, preserving_proto_field_name=True)
    for member in _ESSENCE_MEMBERS & data.keys():
        data["essence_parameters"] = data.pop(member)
    if flow.tags:
        data["tags"] = tags_to_json(flow.tags)
    return data


def source_from_json(data: Mapping[str, Any]) -> sources_pb2.Source:
    """A Source message from TAMS Source JSON."""
    body = {key: value for key, value in data.items() if key not in SOURCE_READ_ONLY_FIELDS}
    if "tags" in body:
        body["tags"] = tags_from_json(body["tags"])
    return json_format.ParseDict(body, sources_pb2.Source())


def source_to_json(source: sources_pb2.Source) -> JsonObject:
    """TAMS Source JSON from a Source message."""
    data = json_format.MessageToDict(source, preserving_proto_field_name=True)
    if source.tags:
        data["tags"] = tags_to_json(source.tags)
    return data


PROFILE_READ_ONLY_FIELDS = frozenset({"created"})


def profile_from_json(data: Mapping[str, Any]) -> service_info_pb2.Profile:
    """A Profile message from TAMS Profile JSON (`profile.json`)."""
    body = {key: value for key, value in data.items() if key not in PROFILE_READ_ONLY_FIELDS}
    metadata = dict(body.pop("flow_metadata", {}))
    essence = metadata.pop("essence_parameters", None)
    if essence is not None:
        metadata[_ESSENCE_MEMBER.get(metadata.get("format", ""), "video")] = essence
    body["flow_metadata"] = metadata
    if "tags" in body:
        body["tags"] = tags_from_json(body["tags"])
    return json_format.ParseDict(body, service_info_pb2.Profile())


def profile_to_json(profile: service_info_pb2.Profile) -> JsonObject:
    """TAMS Profile JSON from a Profile message."""
    data = json_format.MessageToDict(profile, preserving_proto_field_name=True)
    metadata = data.get("flow_metadata", {})
    for member in _ESSENCE_MEMBERS & metadata.keys():
        metadata["essence_parameters"] = metadata.pop(member)
    if profile.tags:
        data["tags"] = tags_to_json(profile.tags)
    return data
