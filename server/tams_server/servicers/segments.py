"""tams.v1.SegmentService."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc

from tams.v1 import segments_pb2, segments_pb2_grpc
from tams_server.convert.deletions import delete_request_to_proto
from tams_server.convert.get_urls import GetUrlWriter, filters_to_domain
from tams_server.convert.segments import failed_segments, fill_segments, post_to_domain
from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.principal import principal
from tams_server.domain.segments import MAX_SEGMENTS_PER_CALL, Rejection, Segment, prepare
from tams_server.domain.storage import StorageBackend
from tams_server.domain.timerange import TimeRange, format_timerange, parse_timerange, to_bounds
from tams_server.objects.get_urls import GetUrlMaker
from tams_server.objects.urls import ObjectUrls
from tams_server.store.objects import ObjectRecordStore
from tams_server.store.paging import page_size
from tams_server.store.segments import Listing, SegmentPage, SegmentStore, Window, objects_of

Context = grpc.aio.ServicerContext[object, object]
ListingRequest = segments_pb2.ListSegmentsRequest | segments_pb2.StreamSegmentsRequest

STREAM_PAGE_DEFAULT = 2000
STREAM_PAGE_MAX = 5000


class SegmentServicer(segments_pb2_grpc.SegmentServiceServicer):
    """Segments over gRPC."""

    def __init__(
        self,
        store: SegmentStore,
        objects: ObjectRecordStore,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
        *,
        url_lifetime_s: int,
    ) -> None:
        self._store = store
        self._objects = objects
        self._urls = urls
        self._backends = tuple(backends)
        self._backend_labels = frozenset(b.label for b in backends if b.label)
        self._url_lifetime_s = url_lifetime_s

    async def ListSegments(
        self, request: segments_pb2.ListSegmentsRequest, context: Context
    ) -> segments_pb2.ListSegmentsResponse:
        window = _window(request)
        size = page_size(request.page_size)
        urls = self._url_writer(request)
        page = await self._store.page(
            _listing(request, window, urls), page_size=size, page_token=request.page_token
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
            limit=request.limit or None,
        )  # fmt: skip
        async for page in pages:
            message = segments_pb2.StreamSegmentsResponse(next_page_token=page.next_page_token)
            _fill(message.segments, page, request, urls)
            yield message

    async def RegisterSegments(
        self, request: segments_pb2.RegisterSegmentsRequest, context: Context
    ) -> segments_pb2.RegisterSegmentsResponse:
        check_uuid(request.flow_id, "flow_id")
        if len(request.segments) > MAX_SEGMENTS_PER_CALL:
            raise InvalidArgument.for_field(
                "segments",
                f"holds {len(request.segments)}; at most {MAX_SEGMENTS_PER_CALL} per call",
                reason=Reason.BATCH_TOO_LARGE,
            )
        count, rejections = await self._register(request.flow_id, request.segments, 0)
        return segments_pb2.RegisterSegmentsResponse(
            failed_segments=failed_segments(rejections), registered_count=count
        )

    async def StreamRegisterSegments(
        self,
        request_iterator: AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest],
        context: Context,
    ) -> segments_pb2.StreamRegisterSegmentsResponse:
        flow_id = ""
        total, seen = 0, 0
        failed: list[segments_pb2.FailedSegment] = []
        # While the store writes one batch, the next is received and checked.
        pending: asyncio.Future[tuple[int, list[Rejection]]] | None = None
        pending_rejections: list[Rejection] = []
        pending_offset = 0

        async def settle() -> None:
            nonlocal total, failed
            assert pending is not None
            count, refused = await pending
            total += count
            failed += failed_segments(pending_rejections + refused, index_offset=pending_offset)

        try:
            async for message in request_iterator:
                if not flow_id:
                    flow_id = check_uuid(message.flow_id, "flow_id")
                elif message.flow_id and message.flow_id != flow_id:
                    raise InvalidArgument.for_field(
                        "flow_id", f"changed from {flow_id} to {message.flow_id} in the stream"
                    )
                candidates, rejections = _check(message.segments, seen)
                if pending is not None:
                    await settle()
                pending = asyncio.ensure_future(self._store_checked(flow_id, candidates))
                pending_rejections, pending_offset = rejections, seen
                seen += len(message.segments)
            if pending is not None:
                await settle()
        finally:
            if pending is not None and not pending.done():
                pending.cancel()  # the call failed: roll the batch in flight back
        if not flow_id:
            raise InvalidArgument.for_field("flow_id", "is required", reason=Reason.MISSING_FIELD)
        return segments_pb2.StreamRegisterSegmentsResponse(
            failed_segments=failed, registered_count=total
        )

    async def DeleteSegments(
        self, request: segments_pb2.DeleteSegmentsRequest, context: Context
    ) -> segments_pb2.DeleteSegmentsResponse:
        check_uuid(request.flow_id, "flow_id")
        start, end = _bounds(request.timerange, "timerange")
        object_id = request.object_id if request.HasField("object_id") else None
        deleted_by = request.deleted_by if request.HasField("deleted_by") else principal()
        deleted, pending = await self._store.delete(
            request.flow_id, start, end, object_id, actor=deleted_by, soft=request.soft_delete
        )
        response = segments_pb2.DeleteSegmentsResponse(deleted_count=deleted)
        if pending is not None:
            response.delete_request.CopyFrom(delete_request_to_proto(pending))
        return response

    async def _register(
        self, flow_id: str, posts: Sequence[segments_pb2.SegmentPost], first_index: int
    ) -> tuple[int, list[Rejection]]:
        """Check each post (a bad one is refused, the others go on), then store."""
        candidates, rejections = _check(posts, first_index)
        count, refused = await self._store_checked(flow_id, candidates)
        return count, rejections + refused

    async def _store_checked(
        self, flow_id: str, candidates: Sequence[tuple[int, Segment]]
    ) -> tuple[int, list[Rejection]]:
        """Look in the backends for allocated Objects not yet seen there (outside the
        write transaction: that is network I/O), then store."""
        unverified = await self._objects.unverified(objects_of(candidates))
        uploaded = await self._urls.present(unverified) if unverified else {}
        return await self._store.register(
            flow_id, candidates, uploaded=uploaded, backend_labels=self._backend_labels
        )

    def _url_writer(self, request: ListingRequest) -> GetUrlWriter | None:
        """What writes the listing's get_urls; None when it asks for none."""
        filters = filters_to_domain(request.get_url_options, "get_url_options")
        if filters.none_wanted:
            return None
        return GetUrlWriter(
            GetUrlMaker(self._urls, self._backends, filters, expires_s=self._url_lifetime_s)
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


def _check(
    posts: Sequence[segments_pb2.SegmentPost], first_index: int
) -> tuple[list[tuple[int, Segment]], list[Rejection]]:
    """The posts that pass the rules (with their index in this batch), and why the
    others do not."""
    candidates: list[tuple[int, Segment]] = []
    rejections: list[Rejection] = []
    for index, message in enumerate(posts):
        post = post_to_domain(message)
        try:
            candidates.append((index, prepare(post, path=f"segments[{first_index + index}]")))
        except InvalidArgument as error:
            rejections.append(Rejection(index, post.object_id, post.timerange, error))
    return candidates, rejections


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
