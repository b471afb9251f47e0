"""Flow messages <-> domain Flows."""

from __future__ import annotations

from tams.v1 import flows_pb2
from tams_server.convert.common import (
    collection_to_domain,
    fill_collection,
    fill_resource,
    json_to_message,
    message_to_json,
    optional,
    resource_to_domain,
    set_time,
    tag_filters_to_domain,
)
from tams_server.domain import formats
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.models import Flow
from tams_server.domain.queries import FlowQuery, FlowSortKey, TimeBounds

# The member of the `essence_parameters` oneof that belongs to each format.
ESSENCE_MEMBERS = {
    "video": formats.VIDEO,
    "audio": formats.AUDIO,
    "image": formats.IMAGE,
    "data": formats.DATA,
    "multi": formats.MULTI,
}
MEMBER_OF_FORMAT = {urn: member for member, urn in ESSENCE_MEMBERS.items()}

_SORT_KEYS: dict[int, FlowSortKey] = {
    flows_pb2.FLOW_SORT_KEY_UNSPECIFIED: "created",
    flows_pb2.FLOW_SORT_KEY_CREATED: "created",
    flows_pb2.FLOW_SORT_KEY_METADATA_UPDATED: "metadata_updated",
    flows_pb2.FLOW_SORT_KEY_LABEL: "label",
}


def flow_to_domain(message: flows_pb2.Flow) -> tuple[Flow, str | None]:
    """The writable fields of a Flow message, and the format its essence parameters
    were given for (None when none were given). Read-only fields are ignored."""
    member = message.WhichOneof("essence_parameters")
    flow = Flow(
        id=message.id,
        source_id=message.source_id,
        format=message.format,
        **resource_to_domain(message),
        metadata_version=optional(message, "metadata_version"),
        generation=optional(message, "generation"),
        status=optional(message, "status"),
        read_only=optional(message, "read_only"),
        max_bit_rate=optional(message, "max_bit_rate"),
        avg_bit_rate=optional(message, "avg_bit_rate"),
        profile_id=message.profile_id or None,  # "" unlinks a Profile (TAMS)
        codec=optional(message, "codec"),
        container=optional(message, "container"),
        segment_duration=(
            message_to_json(message.segment_duration)
            if message.HasField("segment_duration")
            else None
        ),
        container_mapping=(
            message_to_json(message.container_mapping)
            if message.HasField("container_mapping")
            else None
        ),
        essence_parameters=message_to_json(getattr(message, member)) if member else None,
        flow_collection=collection_to_domain(message.flow_collection),
    )
    return flow, ESSENCE_MEMBERS[member] if member else None


def flow_to_proto(flow: Flow) -> flows_pb2.Flow:
    """A Flow message with every field the domain knows."""
    message = flows_pb2.Flow(
        id=flow.id,
        source_id=flow.source_id,
        format=flow.format,
        metadata_version=flow.metadata_version,
        generation=flow.generation,
        status=flow.status,
        read_only=flow.read_only,
        max_bit_rate=flow.max_bit_rate,
        avg_bit_rate=flow.avg_bit_rate,
        profile_id=flow.profile_id,
        codec=flow.codec,
        container=flow.container,
        timerange=flow.timerange,
    )
    fill_resource(message, flow)
    fill_collection(message.flow_collection, flow.flow_collection)
    if flow.segment_duration is not None:
        json_to_message(flow.segment_duration, message.segment_duration)
    if flow.container_mapping is not None:
        json_to_message(flow.container_mapping, message.container_mapping)
    if flow.essence_parameters is not None:
        member = MEMBER_OF_FORMAT[flow.format]
        json_to_message(flow.essence_parameters, getattr(message, member))
    set_time(message.metadata_updated, flow.metadata_updated_ns)
    set_time(message.segments_updated, flow.segments_updated_ns)
    return message


def flow_query_to_domain(
    request: flows_pb2.ListFlowsRequest, timerange: TimeBounds | None
) -> FlowQuery:
    """The filters and order of a ListFlows request (the timerange parsed already)."""
    f = request.filter
    if request.sort_by not in _SORT_KEYS:
        raise InvalidArgument.for_field("sort_by", f"unknown sort key {request.sort_by}")
    return FlowQuery(
        source_id=optional(f, "source_id"),
        timerange=timerange,
        format=optional(f, "format"),
        codec=optional(f, "codec"),
        label=optional(f, "label"),
        label_prefix=optional(f, "label_prefix"),
        frame_width=optional(f, "frame_width"),
        frame_height=optional(f, "frame_height"),
        tags=tag_filters_to_domain(f.tags),
        profile_id=optional(f, "profile_id"),
        status=optional(f, "status"),
        init_segments=optional(f, "init_segments"),
        collected_by_ids=tuple(f.collected_by_ids),
        not_collected=f.not_collected,
        sort_by=_SORT_KEYS[request.sort_by],
        reverse_order=request.reverse_order,
        show_deleted=request.show_deleted,
    )
