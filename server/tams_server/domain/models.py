"""The domain's resources as plain immutable values.

Times are integer nanoseconds since the Unix epoch (wall clock, UTC). Technical
metadata whose shape the spec fixes (essence parameters, segment duration, container
mapping) is kept in its JSON shape: the edges give it types, the rules in
``domain.flows`` check its values, and the store keeps it as JSON.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from tams_server.domain.tags import TagValue

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CollectionItem:
    """A member of a Flow or Source collection, in an ordered list."""

    id: str
    role: str | None = None
    container_mapping: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """The properties Sources and Flows share (and that their tag and property paths
    reach). All but ``id`` are keyword-only, so each kind keeps its own positional
    fields after ``id``."""

    id: str
    _: KW_ONLY
    label: str | None = None
    description: str | None = None
    created_by: str | None = None
    updated_by: str | None = None
    tags: dict[str, TagValue] = field(default_factory=dict)
    # Server-managed, ignored on input:
    created_ns: int | None = None
    collected_by: tuple[str, ...] = ()
    deleted_ns: int | None = None
    deleted_by: str | None = None


@dataclass(frozen=True, slots=True)
class Source(Resource):
    """A Source (TAMS `source.json`)."""

    format: str
    # Server-managed, ignored on input:
    updated_ns: int | None = None
    source_collection: tuple[CollectionItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    """A Profile (TAMS `profile.json`): named, immutable technical Flow metadata."""

    id: str
    flow_metadata: JsonObject
    """format, codec, container, avg_bit_rate, segment_duration, container_mapping and
    essence_parameters, in their TAMS JSON shape."""
    label: str | None = None
    description: str | None = None
    created_by: str | None = None
    tags: dict[str, TagValue] = field(default_factory=dict)
    created_ns: int | None = None


@dataclass(frozen=True, slots=True)
class Flow(Resource):
    """A Flow (TAMS `flow-get.json`): common fields plus technical metadata."""

    source_id: str
    format: str
    metadata_version: str | None = None
    generation: int | None = None
    status: str | None = None
    read_only: bool | None = None
    max_bit_rate: int | None = None
    avg_bit_rate: int | None = None
    profile_id: str | None = None
    codec: str | None = None
    container: str | None = None
    segment_duration: JsonObject | None = None
    container_mapping: JsonObject | None = None
    essence_parameters: JsonObject | None = None
    flow_collection: tuple[CollectionItem, ...] = ()
    # Server-managed, ignored on input:
    metadata_updated_ns: int | None = None
    segments_updated_ns: int | None = None
    timerange: str | None = None


@dataclass(frozen=True, slots=True)
class FlowDeleteRequest:
    """A deletion finished in the background (TAMS `deletion-request.json`)."""

    id: str
    flow_id: str
    timerange_to_delete: str
    delete_flow: bool
    status: str
    """created, started, done or error."""
    timerange_remaining: str | None = None
    created_ns: int | None = None
    created_by: str | None = None
    updated_ns: int | None = None
    expiry_ns: int | None = None
    error: JsonObject | None = None
