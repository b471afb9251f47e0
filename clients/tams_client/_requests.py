"""Request builders shared by the async and sync clients, so both send exactly the
same messages and differ only in how they wait."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence

from google.protobuf import field_mask_pb2

from tams.v1 import flows_pb2, objects_pb2, segments_pb2, sources_pb2, storage_pb2
from tams_client._errors import TamsClientError
from tams_client._retry import RETRYABLE
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


def stream_segments(
    flow_id: str,
    timerange: str | None,
    object_id: str | None,
    reverse_order: bool,
    limit: int,
    page_size: int,
    include_object_timerange: bool,
    get_url_options: objects_pb2.GetUrlOptions | None = None,
) -> segments_pb2.StreamSegmentsRequest:
    return segments_pb2.StreamSegmentsRequest(
        flow_id=flow_id,
        timerange=timerange or "",
        object_id=object_id,
        reverse_order=reverse_order,
        limit=limit,
        page_size=page_size,
        include_object_timerange=include_object_timerange,
        get_url_options=get_url_options,
    )


def delete_segments(
    flow_id: str, timerange: str | None, object_id: str | None
) -> segments_pb2.DeleteSegmentsRequest:
    return segments_pb2.DeleteSegmentsRequest(
        flow_id=flow_id, timerange=timerange or "", object_id=object_id
    )


def sync_segment_batches(
    flow_id: str, segments: Iterable[segments_pb2.SegmentPost], batch_size: int
) -> Iterator[segments_pb2.StreamRegisterSegmentsRequest]:
    """The messages of a streamed registration: the Flow id in the first only."""
    batch: list[segments_pb2.SegmentPost] = []
    sent = 0
    for segment in segments:
        batch.append(segment)
        if len(batch) >= batch_size:
            yield _batch(flow_id if not sent else "", batch)
            sent, batch = sent + 1, []
    if batch or not sent:
        yield _batch(flow_id if not sent else "", batch)


async def segment_batches(
    flow_id: str,
    segments: Iterable[segments_pb2.SegmentPost] | AsyncIterable[segments_pb2.SegmentPost],
    batch_size: int,
) -> AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest]:
    """The async twin of ``sync_segment_batches``, from either kind of iterable."""
    if not isinstance(segments, AsyncIterable):
        for message in sync_segment_batches(flow_id, segments, batch_size):
            yield message
        return
    batch: list[segments_pb2.SegmentPost] = []
    sent = 0
    async for segment in segments:
        batch.append(segment)
        if len(batch) >= batch_size:
            yield _batch(flow_id if not sent else "", batch)
            sent, batch = sent + 1, []
    if batch or not sent:
        yield _batch(flow_id if not sent else "", batch)


def _batch(
    flow_id: str, batch: list[segments_pb2.SegmentPost]
) -> segments_pb2.StreamRegisterSegmentsRequest:
    return segments_pb2.StreamRegisterSegmentsRequest(flow_id=flow_id, segments=batch)


def is_retryable(error: BaseException) -> bool:
    """Whether a failed call may be tried again (or a stream resumed)."""
    return isinstance(error, TamsClientError) and error.code in RETRYABLE


def allocate_storage(
    flow_id: str,
    count: int | None,
    object_ids: Sequence[str],
    storage_id: str | None,
    content_type: str | None,
) -> storage_pb2.AllocateStorageRequest:
    """An AllocateStorage request: ``count`` new ids or the given ``object_ids``."""
    request = storage_pb2.AllocateStorageRequest(flow_id=flow_id, object_ids=object_ids)
    if count is not None:
        request.limit = count
    if storage_id is not None:
        request.storage_id = storage_id
    if content_type is not None:
        request.content_type = content_type
    return request
