"""tams.v1.SegmentService."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import grpc

from tams.v1 import segments_pb2, segments_pb2_grpc
from tams_server.convert.deletions import delete_request_to_proto
from tams_server.convert.get_urls import GetUrlMaker, filters_to_domain
from tams_server.convert.segments import (
    failed_segments,
    fill_segments,
    fill_segments_with_deleted,
    post_to_domain,
)
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import ObjectLocation
from tams_server.domain.principal import principal
from tams_server.domain.storage import StorageBackend
from tams_server.domain.timerange import TimeRange, format_timerange, parse_timerange, to_bounds
from tams_server.objects.urls import ObjectUrls
from tams_server.store.objects import ObjectStore
from tams_server.store.paging import PageTokenCodec, fingerprint, page_size
from tams_server.store.segments import (
    LISTED_COLUMNS,
    OBJECT_COLUMNS,
    SegmentStore,
    Window,
)
from tams_server.usecases.caller import Caller
from tams_server.usecases.segments import PostBatch, SegmentWrites

Context = grpc.aio.ServicerContext[object, object]
Rows = Sequence[Sequence[Any]]
Places = Mapping[str, ObjectLocation]

STREAM_PAGE_DEFAULT = 2000
STREAM_PAGE_MAX = 5000


class SegmentServicer(segments_pb2_grpc.SegmentServiceServicer):
    """Segments over gRPC."""

    def __init__(
        self,
        store: SegmentStore,
        writes: SegmentWrites,
        tokens: PageTokenCodec,
        objects: ObjectStore,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
        *,
        url_lifetime_s: int,
    ) -> None:
        self._store = store
        self._writes = writes
        self._tokens = tokens
        self._objects = objects
        self._urls = urls
        self._backends = tuple(backends)
        self._url_lifetime_s = url_lifetime_s

    async def ListSegments(
        self, request: segments_pb2.ListSegmentsRequest, context: Context
    ) -> segments_pb2.ListSegmentsResponse:
        window = _window(request)
        size = page_size(request.page_size)
        print_ = fingerprint("segments", request.flow_id, window, request.show_deleted)
        after = self._after(request.page_token, print_)
        if request.show_deleted:
            rows = await self._store.page_with_deleted(
                request.flow_id, window, after_key=after, limit=size + 1
            )
        else:
            rows = await self._store.page(
                request.flow_id, window, after_start=after[0] if after else None,
                limit=size + 1, with_objects=self._url_maker(request) is not None,
            )  # fmt: skip
        token = ""
        if len(rows) > size:
            rows = rows[:size]
            token = self._tokens.encode(_key(rows[-1], request.show_deleted), print_)
        response = segments_pb2.ListSegmentsResponse(
            next_page_token=token, page_size=size, timerange=_covered(rows)
        )
        urls = self._url_maker(request)
        places = await self._places(rows, urls)
        fill = fill_segments_with_deleted if request.show_deleted else fill_segments
        fill(
            response.segments, rows, include_object_timerange=request.include_object_timerange,
            urls=urls, places=places,
        )  # fmt: skip
        return response

    async def StreamSegments(
        self, request: segments_pb2.StreamSegmentsRequest, context: Context
    ) -> AsyncIterator[segments_pb2.StreamSegmentsResponse]:
        window = _window(request)
        size = page_size(request.page_size, default=STREAM_PAGE_DEFAULT, maximum=STREAM_PAGE_MAX)
        if request.limit < 0:
            raise InvalidArgument.for_field("limit", f"must be >= 0, got {request.limit}")
        remaining = request.limit or None
        print_ = fingerprint("segments", request.flow_id, window, request.show_deleted)
        after = self._after(request.page_token, print_)
        if request.show_deleted:
            async for message in self._stream_with_deleted(request, window, size, after, print_):
                yield message
            return

        max_segment = await self._store.max_segment(request.flow_id)
        if max_segment is None:
            return  # a Flow that does not exist has no Segments
        urls = self._url_maker(request)

        async def page(after_start: int | None, want: int) -> tuple[Rows, Places]:
            rows = await self._store.page(
                request.flow_id, window, after_start=after_start, limit=want,
                max_segment=max_segment, with_objects=urls is not None,
            )  # fmt: skip
            return rows, await self._places(rows, urls)

        def fetch(after_start: int | None) -> asyncio.Future[tuple[Rows, Places]]:
            want = size if remaining is None else min(size, remaining)
            return asyncio.ensure_future(page(after_start, want))

        # Read one page ahead: the database works on the next page while this one is
        # converted and sent, instead of each waiting for the other.
        pending = fetch(after[0] if after else None)
        try:
            while True:
                want = size if remaining is None else min(size, remaining)
                rows, places = await pending
                if not rows:
                    return
                start = rows[-1][0]
                if remaining is not None:
                    remaining -= len(rows)
                done = len(rows) < want or remaining == 0
                if not done:
                    pending = fetch(start)
                message = segments_pb2.StreamSegmentsResponse(
                    next_page_token="" if done else self._tokens.encode([start], print_)
                )
                fill_segments(
                    message.segments,
                    rows,
                    include_object_timerange=request.include_object_timerange,
                    urls=urls,
                    places=places,
                )
                yield message
                if done:
                    return
        finally:
            pending.cancel()

    async def RegisterSegments(
        self, request: segments_pb2.RegisterSegmentsRequest, context: Context
    ) -> segments_pb2.RegisterSegmentsResponse:
        posts = [post_to_domain(message) for message in request.segments]
        registered = await self._writes.register(request.flow_id, posts)
        return segments_pb2.RegisterSegmentsResponse(
            failed_segments=failed_segments(registered.rejections),
            registered_count=registered.count,
        )

    async def StreamRegisterSegments(
        self,
        request_iterator: AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest],
        context: Context,
    ) -> segments_pb2.StreamRegisterSegmentsResponse:
        registered = await self._writes.register_stream(_post_batches(request_iterator))
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
        deleted_by = request.deleted_by if request.HasField("deleted_by") else None
        deleted, pending = await self._writes.delete(
            request.flow_id, start, end, object_id, soft=request.soft_delete,
            deleted_by=deleted_by, caller=Caller(principal()),
        )  # fmt: skip
        response = segments_pb2.DeleteSegmentsResponse(deleted_count=deleted)
        if pending is not None:
            response.delete_request.CopyFrom(delete_request_to_proto(pending))
        return response

    async def _stream_with_deleted(
        self,
        request: segments_pb2.StreamSegmentsRequest,
        window: Window,
        size: int,
        after: list[int] | None,
        print_: str,
    ) -> AsyncIterator[segments_pb2.StreamSegmentsResponse]:
        """StreamSegments with ``show_deleted``: the simple loop, page after page."""
        remaining = request.limit or None
        while remaining is None or remaining > 0:
            want = size if remaining is None else min(size, remaining)
            rows = await self._store.page_with_deleted(
                request.flow_id, window, after_key=after, limit=want
            )
            if not rows:
                return
            after = _key(rows[-1], True)
            if remaining is not None:
                remaining -= len(rows)
            done = len(rows) < want or remaining == 0
            message = segments_pb2.StreamSegmentsResponse(
                next_page_token="" if done else self._tokens.encode(after, print_)
            )
            urls = self._url_maker(request)
            fill_segments_with_deleted(
                message.segments, rows, include_object_timerange=request.include_object_timerange,
                urls=urls, places=await self._places(rows, urls),
            )  # fmt: skip
            yield message
            if done:
                return

    def _url_maker(
        self, request: segments_pb2.ListSegmentsRequest | segments_pb2.StreamSegmentsRequest
    ) -> GetUrlMaker | None:
        """What makes the listing's get_urls; None when it asks for none."""
        filters = filters_to_domain(request.get_url_options, "get_url_options")
        if filters.none_wanted:
            return None
        return GetUrlMaker(self._urls, self._backends, filters, expires_s=self._url_lifetime_s)

    async def _places(self, rows: Rows, urls: GetUrlMaker | None) -> Places:
        """Where the Objects (media and init) of ``rows`` are, when URLs are wanted.
        Rows read ``with_objects`` carry it for their media Object; only init Objects
        and Objects with further copies are looked up."""
        if urls is None or not rows:
            return {}
        wanted = {row[10] for row in rows if row[10] is not None}
        if len(rows[0]) == len(LISTED_COLUMNS) + len(OBJECT_COLUMNS):
            wanted.update(row[3] for row in rows if row[-1])  # further copies
        else:
            wanted.update(row[3] for row in rows)
        return await self._objects.locations(wanted) if wanted else {}

    def _after(self, token: str, print_: str) -> list[int] | None:
        if not token:
            return None
        key = self._tokens.decode(token, print_)
        if not key or not all(isinstance(part, int) for part in key):
            raise InvalidArgument.for_field("page_token", "is not a segment page token")
        return [int(part) for part in key if part is not None]


def _key(row: Sequence[Any], with_deleted: bool) -> list[int]:
    """The keyset key of a listing row: its start, and with deleted Segments in the
    listing also (kind, seq) since those may share a start."""
    return [row[0], row[14], row[15]] if with_deleted else [row[0]]


async def _post_batches(
    messages: AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest],
) -> AsyncIterator[PostBatch]:
    """The messages of a registration stream as domain batches, each converted as it
    arrives."""
    async for message in messages:
        yield PostBatch(message.flow_id, [post_to_domain(post) for post in message.segments])


def _window(
    request: segments_pb2.ListSegmentsRequest | segments_pb2.StreamSegmentsRequest,
) -> Window:
    check_uuid(request.flow_id, "flow_id")
    start, end = _bounds(request.timerange, "timerange")
    object_id = request.object_id if request.HasField("object_id") else None
    return Window(start, end, object_id, request.reverse_order)


def _bounds(text: str, field: str) -> tuple[int, int]:
    """A request's timerange as storage bounds; empty text means all time."""
    timerange = parse_timerange(text, field) if text else TimeRange(None, None)
    if timerange.is_empty:
        return 0, 0
    return to_bounds(timerange, field)


def _covered(rows: Sequence[Sequence[Any]]) -> str:
    """The timerange a page covers (TAMS X-Paging-Timerange)."""
    if not rows:
        return "()"
    return format_timerange(TimeRange(min(r[0] for r in rows), max(r[1] for r in rows)))
