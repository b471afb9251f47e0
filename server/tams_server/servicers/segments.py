"""tams.v1.SegmentService."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc

from tams.v1 import segments_pb2, segments_pb2_grpc
from tams_server.convert.deletions import delete_request_to_proto
from tams_server.convert.get_urls import GetUrlWriter, UrlFragments, filters_to_domain
from tams_server.convert.segments import failed_segments, fill_segments, post_to_domain
from tams_server.domain.access import AuthClassMap, current_access
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.ids import check_uuid
from tams_server.domain.principal import principal
from tams_server.domain.storage import StorageBackend
from tams_server.domain.timerange import TimeRange, format_timerange, parse_timerange, to_bounds
from tams_server.objects.get_urls import GetUrlMaker
from tams_server.objects.urls import ObjectUrls
from tams_server.servicers.attribution import deleted_by
from tams_server.store.paging import page_size
from tams_server.store.segments import (
    Listing,
    SegmentPage,
    SegmentsToDelete,
    SegmentStore,
    Window,
)
from tams_server.usecases.caller import Caller
from tams_server.usecases.segments import PostBatch, SegmentWrites

Context = grpc.aio.ServicerContext[object, object]
ListingRequest = segments_pb2.ListSegmentsRequest | segments_pb2.StreamSegmentsRequest

STREAM_PAGE_DEFAULT = 2000
STREAM_PAGE_MAX = 5000


class SegmentServicer(segments_pb2_grpc.SegmentServiceServicer):
    """Segments over gRPC."""

    def __init__(
        self,
        store: SegmentStore,
        writes: SegmentWrites,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
        *,
        url_lifetime_s: int,
        classes: AuthClassMap | None,
    ) -> None:
        self._classes = classes
        self._store = store
        self._writes = writes
        self._urls = urls
        self._backends = tuple(backends)
        self._url_lifetime_s = url_lifetime_s
        self._url_fragments = UrlFragments()

    async def ListSegments(
        self, request: segments_pb2.ListSegmentsRequest, context: Context
    ) -> segments_pb2.ListSegmentsResponse:
        window = _window(request)
        size = page_size(request.page_size)
        urls = self._url_writer(request)
        page = await self._store.page(
            _listing(request, window, urls),
            page_size=size,
            page_token=request.page_token,
            access=current_access(self._classes),
        )
        response = segments_pb2.ListSegmentsResponse(
            next_page_token=page.next_page_token, page_size=size, timerange=_covered(page)
        )
        _fill(response.segments, page, request, urls)
        return response

    async def StreamSegments(
        self, request: segments_pb2.StreamSegmentsRequest, context: Context
    ) -> AsyncIterator[segments_pb2.StreamSegmentsResponse]:
        window = _window(request)
        size = page_size(request.page_size, default=STREAM_PAGE_DEFAULT, maximum=STREAM_PAGE_MAX)
        if request.limit < 0:
            raise InvalidArgument.for_field("limit", f"must be >= 0, got {request.limit}")
        urls = self._url_writer(request)
        pages = self._store.pages(
            _listing(request, window, urls), page_size=size, page_token=request.page_token,
            limit=request.limit or None, access=current_access(self._classes),
        )  # fmt: skip
        async for page in pages:
            message = segments_pb2.StreamSegmentsResponse(next_page_token=page.next_page_token)
            await _fill_in_steps(message.segments, page, request, urls)
            yield message

    async def RegisterSegments(
        self, request: segments_pb2.RegisterSegmentsRequest, context: Context
    ) -> segments_pb2.RegisterSegmentsResponse:
        posts = [post_to_domain(message) for message in request.segments]
        registered = await self._writes.register(
            request.flow_id,
            posts,
            allocate_unknown=request.allocate_unknown_objects,
            access=current_access(self._classes),
        )
        return segments_pb2.RegisterSegmentsResponse(
            failed_segments=failed_segments(registered.rejections),
            registered_count=registered.count,
        )

    async def StreamRegisterSegments(
        self,
        request_iterator: AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest],
        context: Context,
    ) -> segments_pb2.StreamRegisterSegmentsResponse:
        registered = await self._writes.register_stream(
            _post_batches(request_iterator), access=current_access(self._classes)
        )
        return segments_pb2.StreamRegisterSegmentsResponse(
            failed_segments=failed_segments(registered.rejections),
            registered_count=registered.count,
        )

    async def DeleteSegments(
        self, request: segments_pb2.DeleteSegmentsRequest, context: Context
    ) -> segments_pb2.DeleteSegmentsResponse:
        check_uuid(request.flow_id, "flow_id")
        start, end = _bounds(request.timerange, "timerange")
        object_id = request.object_id if request.HasField("object_id") else None
        named = request.deleted_by if request.HasField("deleted_by") else None
        target = SegmentsToDelete(request.flow_id, start, end, object_id, request.soft_delete)
        deleted, pending = await self._writes.delete(
            target,
            deleted_by=deleted_by(named),
            caller=Caller(principal()),
            access=current_access(self._classes),
        )
        response = segments_pb2.DeleteSegmentsResponse(deleted_count=deleted)
        if pending is not None:
            response.delete_request.CopyFrom(delete_request_to_proto(pending))
        return response

    def _url_writer(self, request: ListingRequest) -> GetUrlWriter | None:
        """What writes the listing's get_urls; None when it asks for none."""
        filters = filters_to_domain(request.get_url_options, "get_url_options")
        if filters.none_wanted:
            return None
        return GetUrlWriter(
            GetUrlMaker(self._urls, self._backends, filters, expires_s=self._url_lifetime_s),
            self._url_fragments,
        )


def _window(request: ListingRequest) -> Window:
    check_uuid(request.flow_id, "flow_id")
    start, end = _bounds(request.timerange, "timerange")
    object_id = request.object_id if request.HasField("object_id") else None
    return Window(start, end, object_id, request.reverse_order)


def _listing(request: ListingRequest, window: Window, urls: GetUrlWriter | None) -> Listing:
    """What a request lists; where the Objects are only when URLs are wanted."""
    return Listing(
        request.flow_id, window, show_deleted=request.show_deleted, with_objects=urls is not None
    )


def _fill(
    target: Any, page: SegmentPage, request: ListingRequest, urls: GetUrlWriter | None
) -> None:
    fill_segments(
        target, page.segments, include_object_timerange=request.include_object_timerange,
        urls=urls, places=page.places, deletions=page.deletions,
    )  # fmt: skip


# Segments converted between two turns of the event loop while a stream converts a page.
FILL_STEP = 250


async def _fill_in_steps(
    target: Any, page: SegmentPage, request: ListingRequest, urls: GetUrlWriter | None
) -> None:
    """``_fill``, letting the event loop run between steps: the next page's read,
    started before, makes its round trips to the database (on PostgreSQL: BEGIN, the
    plan setting, the query) meanwhile, so the database works while this page is
    converted instead of after."""
    segments, deletions = page.segments, page.deletions
    for first in range(0, len(segments), FILL_STEP):
        if first:
            await asyncio.sleep(0)
        fill_segments(
            target, segments[first : first + FILL_STEP],
            include_object_timerange=request.include_object_timerange, urls=urls,
            places=page.places, deletions=deletions[first : first + FILL_STEP],
        )  # fmt: skip


async def _post_batches(
    messages: AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest],
) -> AsyncIterator[PostBatch]:
    """The messages of a registration stream as domain batches, each converted as it
    arrives."""
    async for message in messages:
        yield PostBatch(message.flow_id, [post_to_domain(post) for post in message.segments])


def _bounds(text: str, field: str) -> tuple[int, int]:
    """A request's timerange as storage bounds; empty text means all time."""
    timerange = parse_timerange(text, field) if text else TimeRange(None, None)
    if timerange.is_empty:
        return 0, 0
    return to_bounds(timerange, field)


def _covered(page: SegmentPage) -> str:
    """The timerange a page covers (TAMS X-Paging-Timerange)."""
    bounds = page.bounds
    return "()" if bounds is None else format_timerange(TimeRange(*bounds))
