"""Profile messages <-> domain Profiles."""

from __future__ import annotations

from typing import Any

from tams.v1 import service_info_pb2
from tams_server.convert.common import (
    fill_tags,
    json_to_message,
    message_to_json,
    optional,
    set_time,
    tags_to_domain,
)
from tams_server.convert.flows import ESSENCE_MEMBERS, MEMBER_OF_FORMAT
from tams_server.domain.models import Profile

_SUB_MESSAGES = ("segment_duration", "container_mapping")


def profile_to_domain(message: service_info_pb2.Profile) -> tuple[Profile, str | None]:
    """A Profile, and the format its essence parameters were given for."""
    meta = message.flow_metadata
    member = meta.WhichOneof("essence_parameters")
    metadata: dict[str, Any] = {"format": meta.format}
    if meta.codec:
        metadata["codec"] = meta.codec
    for name in ("container", "avg_bit_rate"):
        if (value := optional(meta, name)) is not None:
            metadata[name] = value
    for name in _SUB_MESSAGES:
        if (sub := optional(meta, name)) is not None:
            metadata[name] = message_to_json(sub)
    if member:
        metadata["essence_parameters"] = message_to_json(getattr(meta, member))
    profile = Profile(
        id=message.id,
        flow_metadata=metadata,
        label=optional(message, "label"),
        description=optional(message, "description"),
        created_by=optional(message, "created_by"),
        tags=tags_to_domain(message.tags),
    )
    return profile, ESSENCE_MEMBERS[member] if member else None


def profile_to_proto(profile: Profile) -> service_info_pb2.Profile:
    """A Profile message."""
    metadata = profile.flow_metadata
    message = service_info_pb2.Profile(
        id=profile.id,
        label=profile.label,
        description=profile.description,
        created_by=profile.created_by,
    )
    meta = message.flow_metadata
    meta.format = metadata["format"]
    meta.codec = metadata.get("codec", "")
    for name in ("container", "avg_bit_rate"):
        if name in metadata:
            setattr(meta, name, metadata[name])
    for name in _SUB_MESSAGES:
        if name in metadata:
            json_to_message(metadata[name], getattr(meta, name))
    if "essence_parameters" in metadata:
        member = MEMBER_OF_FORMAT[metadata["format"]]
        json_to_message(metadata["essence_parameters"], getattr(meta, member))
    fill_tags(message.tags, profile.tags)
    set_time(message.created, profile.created_ns)
    return message
