"""Every call both clients offer, described once: its signature and docstring, its
request, how its result is read, and whether it may be retried. ``unary`` and
``listing`` make each description a method of AsyncTamsClient (awaitable, async
pagers) and of TamsClient (blocking, pagers). The functions take no ``self``: they
only describe; the client's transport runs what they return.

Every method takes ``timeout=`` (seconds per attempt, None for none; the client's by
default) and ``retry=`` (a RetryPolicy instead of the client's).

``token=`` authenticates every call with ``authorization: Bearer ...``: a static
token, a callable returning one (a ``Token`` with an expiry is asked for again before
it), or ``OAuth2ClientCredentials``; when the server answers UNAUTHENTICATED to a
token that can be renewed, the call is made once more with a new one. ``basic=``
(user, password) sends HTTP Basic credentials instead."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Sequence
from typing import Any, Generic, TypeVar

import grpc
import httpx
from google.protobuf import field_mask_pb2

from tams.v1 import (
    events_pb2,
    flow_delete_requests_pb2,
    flows_pb2,
    objects_pb2,
    segments_pb2,
    service_info_pb2,
    sources_pb2,
    storage_pb2,
)
from tams_client import _auth, _content, _uploads
from tams_client import _rpcs as rpcs
from tams_client._batches import async_batches, batches
from tams_client._calls import (
    DEFAULT,
    Call,
    ClientStream,
    Collected,
    Endpoint,
    Listing,
    Method,
    Options,
    Settings,
    Timeout,
    Unary,
    Upload,
)
from tams_client._credentials import TokenArg
from tams_client._methods import listing, unary
from tams_client._plaintext import warn_if_remote
from tams_client._retry import RetryPolicy
from tams_client._tags import PyTagValue, tag_value
from tams_client._webhook_calls import WebhookCalls

TransportT = TypeVar("TransportT")

# A watch waits for events as long as they take: it resumes after a dropped stream
# however long ago its last event came, for about a minute of outage by default.
WATCH_RETRY = RetryPolicy(attempts=20, max_backoff_s=5.0, deadline_s=None)

IDEMPOTENT = True
ONCE = False  # a retry could do it twice (or fail where the first try succeeded)


class TamsApi(WebhookCalls, Generic[TransportT]):
    """The calls of both clients; a subclass supplies the transport."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float | None = 30.0,
        metadata: Sequence[tuple[str, str]] = (),
        channel_options: Sequence[tuple[str, Any]] = (),
        retry: RetryPolicy | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        token: TokenArg | None = None,
        basic: tuple[str, str] | None = None,
    ) -> None:
        settings = Settings(timeout, retry or RetryPolicy(), tuple(metadata))
        call_auth = _auth.source(token, basic, settings.metadata)
        if call_auth is not None and credentials is None:
            warn_if_remote(target, stacklevel=2)  # credentials in clear beyond loopback
        endpoint = Endpoint(target, tuple(channel_options), credentials)
        self._transport = self._connect(endpoint, settings, call_auth)

    def _connect(
        self, endpoint: Endpoint, settings: Settings, call_auth: _auth.Source | None
    ) -> TransportT:
        """The transport to ``endpoint`` (a secure channel when it has TLS
        credentials), its calls authenticated by ``call_auth``."""
        raise NotImplementedError

    # Service

    @unary
    def get_service(
        *, timeout: Timeout = DEFAULT, retry: RetryPolicy | None = None
    ) -> Call[Any, service_info_pb2.ServiceInfo]:
        """The service description (TAMS GET /service)."""
        request = service_info_pb2.GetServiceRequest()
        return Unary(
            rpcs.GET_SERVICE, request, lambda r: r.service, IDEMPOTENT, Options(timeout, retry)
        )

    # Sources

    @unary
    def get_source(
        source_id: str,
        *,
        show_deleted: bool = False,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, sources_pb2.Source]:
        """One Source."""
        request = sources_pb2.GetSourceRequest(source_id=source_id, show_deleted=show_deleted)
        return Unary(rpcs.GET_SOURCE, request, _source, IDEMPOTENT, Options(timeout, retry))

    @listing
    def list_sources(
        *,
        filter: sources_pb2.SourceFilter | None = None,
        sort_by: sources_pb2.SourceSortKey.ValueType = sources_pb2.SOURCE_SORT_KEY_UNSPECIFIED,
        reverse_order: bool = False,
        page_size: int = 0,
        page_token: str = "",
        show_deleted: bool = False,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Listing[sources_pb2.ListSourcesResponse, sources_pb2.Source]:
        """Every matching Source from ``page_token`` on, fetched page by page as the
        iteration goes."""
        request = sources_pb2.ListSourcesRequest(
            filter=filter,
            sort_by=sort_by,
            reverse_order=reverse_order,
            page_size=page_size,
            page_token=page_token,
            show_deleted=show_deleted,
        )
        return Listing(rpcs.LIST_SOURCES, request, lambda r: r.sources, Options(timeout, retry))

    @unary
    def create_source(
        source: sources_pb2.Source, *, timeout: Timeout = DEFAULT, retry: RetryPolicy | None = None
    ) -> Call[Any, sources_pb2.Source]:
        """Create a Source (seed guide POST /sources)."""
        request = sources_pb2.CreateSourceRequest(source=source)
        return Unary(rpcs.CREATE_SOURCE, request, _source, ONCE, Options(timeout, retry))

    @unary
    def batch_create_sources(
        sources: Sequence[sources_pb2.Source],
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, list[sources_pb2.Source]]:
        """Create Sources, all or none."""
        request = sources_pb2.BatchCreateSourcesRequest(sources=sources)
        return Unary(
            rpcs.BATCH_CREATE_SOURCES,
            request,
            lambda r: list(r.sources),
            ONCE,
            Options(timeout, retry),
        )

    @unary
    def update_source(
        source: sources_pb2.Source,
        paths: Sequence[str],
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, sources_pb2.Source]:
        """Change the named properties (label, description, tags) to ``source``'s values."""
        request = sources_pb2.UpdateSourceRequest(source=source, update_mask=_mask(paths))
        return Unary(rpcs.UPDATE_SOURCE, request, _source, IDEMPOTENT, Options(timeout, retry))

    @unary
    def set_source_tag(
        source_id: str,
        name: str,
        value: PyTagValue,
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, sources_pb2.Source]:
        """Create or replace one tag of a Source."""
        request = sources_pb2.SetSourceTagRequest(
            source_id=source_id, name=name, value=tag_value(value)
        )
        return Unary(rpcs.SET_SOURCE_TAG, request, _source, IDEMPOTENT, Options(timeout, retry))

    @unary
    def delete_source_tag(
        source_id: str, name: str, *, timeout: Timeout = DEFAULT, retry: RetryPolicy | None = None
    ) -> Call[Any, sources_pb2.Source]:
        """Delete one tag of a Source."""
        request = sources_pb2.DeleteSourceTagRequest(source_id=source_id, name=name)
        return Unary(rpcs.DELETE_SOURCE_TAG, request, _source, IDEMPOTENT, Options(timeout, retry))

    @unary
    def delete_source(
        source_id: str,
        *,
        deleted_by: str | None = None,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, sources_pb2.Source]:
        """Soft-delete a Source no Flow renders."""
        request = sources_pb2.DeleteSourceRequest(source_id=source_id, deleted_by=deleted_by)
        return Unary(rpcs.DELETE_SOURCE, request, _source, IDEMPOTENT, Options(timeout, retry))

    # Flows

    @unary
    def get_flow(
        flow_id: str,
        *,
        include_timerange: bool = False,
        timerange: str | None = None,
        show_deleted: bool = False,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, flows_pb2.Flow]:
        """One Flow."""
        request = flows_pb2.GetFlowRequest(
            flow_id=flow_id,
            include_timerange=include_timerange,
            timerange=timerange or "",
            show_deleted=show_deleted,
        )
        return Unary(rpcs.GET_FLOW, request, _flow, IDEMPOTENT, Options(timeout, retry))

    @listing
    def list_flows(
        *,
        filter: flows_pb2.FlowFilter | None = None,
        sort_by: flows_pb2.FlowSortKey.ValueType = flows_pb2.FLOW_SORT_KEY_UNSPECIFIED,
        reverse_order: bool = False,
        page_size: int = 0,
        page_token: str = "",
        show_deleted: bool = False,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Listing[flows_pb2.ListFlowsResponse, flows_pb2.Flow]:
        """Every matching Flow from ``page_token`` on, fetched page by page as the
        iteration goes."""
        request = flows_pb2.ListFlowsRequest(
            filter=filter,
            sort_by=sort_by,
            reverse_order=reverse_order,
            page_size=page_size,
            page_token=page_token,
            show_deleted=show_deleted,
        )
        return Listing(rpcs.LIST_FLOWS, request, lambda r: r.flows, Options(timeout, retry))

    @unary
    def create_flow(
        flow: flows_pb2.Flow, *, timeout: Timeout = DEFAULT, retry: RetryPolicy | None = None
    ) -> Call[Any, flows_pb2.Flow]:
        """Create a Flow; AlreadyExistsError if its id is taken."""
        request = flows_pb2.CreateFlowRequest(flow=flow)
        return Unary(rpcs.CREATE_FLOW, request, _flow, ONCE, Options(timeout, retry))

    @unary
    def put_flow(
        flow: flows_pb2.Flow, *, timeout: Timeout = DEFAULT, retry: RetryPolicy | None = None
    ) -> Call[Any, tuple[flows_pb2.Flow, bool]]:
        """Create or replace a whole Flow (TAMS PUT); True when it was created."""
        request = flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True)
        return Unary(
            rpcs.UPDATE_FLOW,
            request,
            lambda r: (r.flow, r.created),
            IDEMPOTENT,
            Options(timeout, retry),
        )

    @unary
    def batch_create_flows(
        flows: Sequence[flows_pb2.Flow],
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, list[flows_pb2.Flow]]:
        """Create Flows, all or none."""
        request = flows_pb2.BatchCreateFlowsRequest(flows=flows)
        return Unary(
            rpcs.BATCH_CREATE_FLOWS, request, lambda r: list(r.flows), ONCE, Options(timeout, retry)
        )

    @unary
    def update_flow(
        flow: flows_pb2.Flow,
        paths: Sequence[str],
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, flows_pb2.Flow]:
        """Change the named properties to ``flow``'s values (unset = delete)."""
        request = flows_pb2.UpdateFlowRequest(flow=flow, update_mask=_mask(paths))
        return Unary(rpcs.UPDATE_FLOW, request, _flow, IDEMPOTENT, Options(timeout, retry))

    @unary
    def set_flow_tag(
        flow_id: str,
        name: str,
        value: PyTagValue,
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, flows_pb2.Flow]:
        """Create or replace one tag of a Flow."""
        request = flows_pb2.SetFlowTagRequest(flow_id=flow_id, name=name, value=tag_value(value))
        return Unary(rpcs.SET_FLOW_TAG, request, _flow, IDEMPOTENT, Options(timeout, retry))

    @unary
    def delete_flow_tag(
        flow_id: str, name: str, *, timeout: Timeout = DEFAULT, retry: RetryPolicy | None = None
    ) -> Call[Any, flows_pb2.Flow]:
        """Delete one tag of a Flow."""
        request = flows_pb2.DeleteFlowTagRequest(flow_id=flow_id, name=name)
        return Unary(rpcs.DELETE_FLOW_TAG, request, _flow, IDEMPOTENT, Options(timeout, retry))

    @unary
    def delete_flow(
        flow_id: str,
        *,
        soft_delete: bool = False,
        deleted_by: str | None = None,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, flow_delete_requests_pb2.FlowDeleteRequest | None]:
        """Delete a Flow; returns the delete request when it continues in the background."""
        request = flows_pb2.DeleteFlowRequest(
            flow_id=flow_id, soft_delete=soft_delete, deleted_by=deleted_by
        )
        return Unary(
            rpcs.DELETE_FLOW, request, _delete_request, IDEMPOTENT, Options(timeout, retry)
        )

    # Segments

    @listing
    def list_segments(
        flow_id: str,
        *,
        timerange: str | None = None,
        object_id: str | None = None,
        reverse_order: bool = False,
        limit: int = 0,
        page_size: int = 0,
        page_token: str = "",
        include_object_timerange: bool = False,
        get_url_options: objects_pb2.GetUrlOptions | None = None,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Listing[segments_pb2.StreamSegmentsResponse, segments_pb2.Segment]:
        """Every Segment overlapping ``timerange`` (all time by default), streamed in
        pages of hundreds; ``.pages()`` yields the messages. A dropped stream is
        reopened from the last page received. ``get_url_options`` shapes the download
        URLs (``GetUrlOptions(accept_get_urls_set=True)``: none at all). The stream
        has no time limit unless ``timeout`` is given."""
        request = segments_pb2.StreamSegmentsRequest(
            flow_id=flow_id,
            timerange=timerange or "",
            object_id=object_id,
            reverse_order=reverse_order,
            limit=limit,
            page_size=page_size,
            page_token=page_token,
            include_object_timerange=include_object_timerange,
            get_url_options=get_url_options,
        )
        return Listing(rpcs.STREAM_SEGMENTS, request, lambda r: r.segments, Options(timeout, retry))

    @unary
    def register_segments(
        flow_id: str,
        segments: Sequence[segments_pb2.SegmentPost],
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, segments_pb2.RegisterSegmentsResponse]:
        """Register Segments; those refused come back in ``failed_segments``.
        Retried like any idempotent call: the server takes a Segment identical to one
        it stored as registered (a retry after a lost reply succeeds, stores nothing
        twice and adds no second event)."""
        request = segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=segments)
        return Unary(rpcs.REGISTER_SEGMENTS, request, _itself, IDEMPOTENT, Options(timeout, retry))

    @unary
    def stream_register_segments(
        flow_id: str,
        segments: Iterable[segments_pb2.SegmentPost] | AsyncIterable[segments_pb2.SegmentPost],
        *,
        batch_size: int = 500,
        timeout: Timeout = DEFAULT,
    ) -> Method[segments_pb2.StreamRegisterSegmentsResponse]:
        """Register a long run of Segments over one client stream, ``batch_size`` per
        message; ``failed_segments`` index the whole run. Never retried by the client
        (the run is read once, and may be a live source); no time limit unless
        ``timeout`` is given. Each batch is stored in its own transaction, so a failed
        call may have stored some: a caller holding the run sends it again, and the
        batches already stored count as registered (identical reposts are idempotent).
        TamsClient takes a plain iterable; AsyncTamsClient an async one too."""
        requests = (
            async_batches(flow_id, segments, batch_size)
            if isinstance(segments, AsyncIterable)
            else batches(flow_id, segments, batch_size)
        )
        return ClientStream(rpcs.STREAM_REGISTER_SEGMENTS, requests, Options(timeout))

    @unary
    def delete_segments(
        flow_id: str,
        *,
        timerange: str | None = None,
        object_id: str | None = None,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, segments_pb2.DeleteSegmentsResponse]:
        """Delete the Segments ``timerange`` covers (all by default)."""
        request = segments_pb2.DeleteSegmentsRequest(
            flow_id=flow_id, timerange=timerange or "", object_id=object_id
        )
        return Unary(rpcs.DELETE_SEGMENTS, request, _itself, IDEMPOTENT, Options(timeout, retry))

    # Storage

    @unary
    def allocate_storage(
        flow_id: str,
        *,
        count: int | None = None,
        object_ids: Sequence[str] = (),
        storage_id: str | None = None,
        content_type: str | None = None,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, list[storage_pb2.AllocatedObject]]:
        """New Objects for the Flow's uploads (``count`` new ids, or ``object_ids``),
        each with the URL to PUT its bytes to."""
        request = storage_pb2.AllocateStorageRequest(
            flow_id=flow_id,
            object_ids=object_ids,
            limit=count,
            storage_id=storage_id,
            content_type=content_type,
        )
        return Collected(rpcs.ALLOCATE_STORAGE, request, _allocated, ONCE, Options(timeout, retry))

    @unary
    def start_multipart_upload(
        flow_id: str,
        object_id: str,
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, str]:
        """Start a multipart upload of an allocated Object; returns the upload id."""
        request = storage_pb2.StartMultipartUploadRequest(flow_id=flow_id, object_id=object_id)
        return Unary(
            rpcs.START_MULTIPART, request, lambda r: r.upload_id, ONCE, Options(timeout, retry)
        )

    @unary
    def get_multipart_part_urls(
        flow_id: str,
        object_id: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, dict[int, storage_pb2.HttpRequest]]:
        """Upload URLs of parts given as (part number, base64 MD5)."""
        request = storage_pb2.GetMultipartPartUrlsRequest(
            flow_id=flow_id,
            object_id=object_id,
            upload_id=upload_id,
            parts=[storage_pb2.PartToUpload(part_number=n, content_md5=md5) for n, md5 in parts],
        )
        return Unary(rpcs.PART_URLS, request, _part_urls, IDEMPOTENT, Options(timeout, retry))

    @unary
    def complete_multipart_upload(
        flow_id: str,
        object_id: str,
        upload_id: str,
        etags: Sequence[tuple[int, str]],
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, str]:
        """Complete an upload with every part's (number, ETag), in part order."""
        request = storage_pb2.CompleteMultipartUploadRequest(
            flow_id=flow_id,
            object_id=object_id,
            upload_id=upload_id,
            parts=[storage_pb2.CompletedPart(part_number=n, etag=e) for n, e in etags],
        )
        return Unary(
            rpcs.COMPLETE_MULTIPART, request, lambda r: r.etag, ONCE, Options(timeout, retry)
        )

    @unary
    def abort_multipart_upload(
        flow_id: str,
        object_id: str,
        upload_id: str,
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, None]:
        """Abort an upload; its parts are discarded."""
        request = storage_pb2.AbortMultipartUploadRequest(
            flow_id=flow_id, object_id=object_id, upload_id=upload_id
        )
        return Unary(rpcs.ABORT_MULTIPART, request, _nothing, IDEMPOTENT, Options(timeout, retry))

    # Uploads

    @unary
    def upload_segments(
        flow_id: str,
        segments: Iterable[_uploads.MediaSegment],
        *,
        concurrency: int = 8,
        batch_size: int = 100,
        progress: _uploads.ProgressCallback | None = None,
        http: httpx.AsyncClient | None = None,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Method[_uploads.UploadResult]:
        """Upload and register Segments: Objects are allocated ``batch_size`` at a
        time, their bytes (``bytes``, a file path, or an iterable of chunks) PUT
        ``concurrency`` at a time (transient HTTP failures retried), then the batch is
        registered. Failed uploads and refused Segments come back in ``failures``, and
        so does everything left when an API call fails; the others are registered.
        ``timeout`` and ``retry`` apply to each API call. TamsClient uploads on an
        event loop of its own (``progress`` is called there; ``http`` must belong to
        it)."""
        return Upload(
            lambda client: _uploads.upload_segments(
                client,
                flow_id,
                segments,
                concurrency=concurrency,
                batch_size=batch_size,
                progress=progress,
                http=http,
                options=Options(timeout, retry),
            )
        )

    @unary
    def upload_object(
        flow_id: str,
        content: _content.Content,
        *,
        part_size: int = 8 * _content.MIB,
        concurrency: int = 4,
        content_type: str | None = None,
        progress: _uploads.ProgressCallback | None = None,
        http: httpx.AsyncClient | None = None,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Method[str]:
        """Upload one Object (``bytes``, a file path, or an iterable of chunks) and
        return its id, to register a Segment with. Above ``part_size`` it goes up as a
        multipart upload, read once, ``concurrency`` parts at a time (and in memory),
        aborted if anything fails. ``timeout`` and ``retry`` apply to each API call."""
        return Upload(
            lambda client: _uploads.upload_object(
                client,
                flow_id,
                content,
                part_size=part_size,
                concurrency=concurrency,
                content_type=content_type,
                progress=progress,
                http=http,
                options=Options(timeout, retry),
            )
        )

    # Events

    @listing
    def watch_events(
        *,
        after_cursor: str = "",
        event_types: Iterable[str | events_pb2.EventType.ValueType] = (),
        flow_ids: Iterable[str] = (),
        source_ids: Iterable[str] = (),
        include_object_timerange: bool = False,
        get_url_options: objects_pb2.GetUrlOptions | None = None,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Listing[events_pb2.WatchEventsResponse, events_pb2.Event]:
        """Every event after ``after_cursor`` (from now when empty), in commit order,
        then each new one as it commits: the iteration does not end by itself.
        ``event_types`` (TAMS names such as ``"flows/segments_added"``, or
        ``EventType`` values), ``flow_ids`` and ``source_ids`` filter; added Segments
        carry ``get_urls`` as in ``list_segments``. A dropped stream (UNAVAILABLE) is
        reopened after the last cursor received, so nothing is missed or repeated;
        ``.pages()`` yields the replies, whose ``resume_cursor`` to keep for a later
        ``after_cursor=``. Each event has its own ``cursor`` too."""
        request = events_pb2.WatchEventsRequest(
            after_cursor=after_cursor,
            event_types=[_event_type(kind) for kind in event_types],
            flow_ids=list(flow_ids),
            source_ids=list(source_ids),
            include_object_timerange=include_object_timerange,
            get_url_options=get_url_options,
        )
        return Listing(
            rpcs.WATCH_EVENTS, request, lambda r: r.events, Options(timeout, retry or WATCH_RETRY),
            next_token=lambda r: r.resume_cursor, token_field="after_cursor",
        )  # fmt: skip


def _mask(paths: Iterable[str]) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def _source(reply: Any) -> sources_pb2.Source:
    source: sources_pb2.Source = reply.source
    return source


def _flow(reply: Any) -> flows_pb2.Flow:
    flow: flows_pb2.Flow = reply.flow
    return flow


def _delete_request(
    reply: flows_pb2.DeleteFlowResponse,
) -> flow_delete_requests_pb2.FlowDeleteRequest | None:
    return reply.delete_request if reply.HasField("delete_request") else None


def _allocated(
    replies: list[storage_pb2.AllocateStorageResponse],
) -> list[storage_pb2.AllocatedObject]:
    return [item for reply in replies for item in reply.media_objects]


def _part_urls(
    reply: storage_pb2.GetMultipartPartUrlsResponse,
) -> dict[int, storage_pb2.HttpRequest]:
    return {part.part_number: part.put_url for part in reply.parts}


Reply = TypeVar("Reply")


_EVENT_TYPES = {
    "flows/created": events_pb2.EVENT_TYPE_FLOW_CREATED,
    "flows/updated": events_pb2.EVENT_TYPE_FLOW_UPDATED,
    "flows/deleted": events_pb2.EVENT_TYPE_FLOW_DELETED,
    "flows/segments_added": events_pb2.EVENT_TYPE_FLOW_SEGMENTS_ADDED,
    "flows/segments_deleted": events_pb2.EVENT_TYPE_FLOW_SEGMENTS_DELETED,
    "sources/created": events_pb2.EVENT_TYPE_SOURCE_CREATED,
    "sources/updated": events_pb2.EVENT_TYPE_SOURCE_UPDATED,
    "sources/deleted": events_pb2.EVENT_TYPE_SOURCE_DELETED,
}


def _event_type(kind: str | events_pb2.EventType.ValueType) -> events_pb2.EventType.ValueType:
    """An event type by its TAMS name (``flows/created``) or its enum value."""
    if not isinstance(kind, str):
        return kind
    try:
        return _EVENT_TYPES[kind]
    except KeyError:
        raise ValueError(f"unknown event type {kind!r}; one of {', '.join(_EVENT_TYPES)}") from None


def _itself(reply: Reply) -> Reply:
    return reply


def _nothing(reply: object) -> None:
    return None
