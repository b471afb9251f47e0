"""Request builders shared by the async and sync clients, so both send exactly the
same messages and differ only in how they wait."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import field_mask_pb2

from tams.v1 import flows_pb2, sources_pb2
from tams_client._tags import PyTagValue, tag_value


def mask(paths: Iterable[str]) -> field_mask_pb2.FieldMask:
    """A field mask of the given property names."""
    return field_mask_pb2.FieldMask(paths=list(paths))


def get_source(source_id: str, show_deleted: bool) -> sources_pb2.GetSourceRequest:
    return sources_pb2.GetSourceRequest(source_id=source_id, show_deleted=show_deleted)


def list_sources(
    filter: sources_pb2.SourceFilter | None,
    sort_by: sources_pb2.SourceSortKey.ValueType,
    reverse_order: bool,
    page_size: int,
    show_deleted: bool,
) -> sources_pb2.ListSourcesRequest:
    return sources_pb2.ListSourcesRequest(
        filter=filter,
        sort_by=sort_by,
        reverse_order=reverse_order,
        page_size=page_size,
        show_deleted=show_deleted,
    )


def set_source_tag(source_id: str, name: str, value: PyTagValue) -> sources_pb2.SetSourceTagRequest:
    return sources_pb2.SetSourceTagRequest(source_id=source_id, name=name, value=tag_value(value))


def get_flow(
    flow_id: str, include_timerange: bool, timerange: str | None, show_deleted: bool
) -> flows_pb2.GetFlowRequest:
    return flows_pb2.GetFlowRequest(
        flow_id=flow_id,
        include_timerange=include_timerange,
        timerange=timerange or "",
        show_deleted=show_deleted,
    )


def list_flows(
    filter: flows_pb2.FlowFilter | None,
    sort_by: flows_pb2.FlowSortKey.ValueType,
    reverse_order: bool,
    page_size: int,
    show_deleted: bool,
) -> flows_pb2.ListFlowsRequest:
    return flows_pb2.ListFlowsRequest(
        filter=filter,
        sort_by=sort_by,
        reverse_order=reverse_order,
        page_size=page_size,
        show_deleted=show_deleted,
    )


def set_flow_tag(flow_id: str, name: str, value: PyTagValue) -> flows_pb2.SetFlowTagRequest:
    return flows_pb2.SetFlowTagRequest(flow_id=flow_id, name=name, value=tag_value(value))


def delete_flow(
    flow_id: str, soft_delete: bool, deleted_by: str | None
) -> flows_pb2.DeleteFlowRequest:
    return flows_pb2.DeleteFlowRequest(
        flow_id=flow_id, soft_delete=soft_delete, deleted_by=deleted_by
    )
