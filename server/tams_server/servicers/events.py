"""tams.v1.EventService: the outbox as a resumable stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import grpc

from tams.v1 import events_pb2, events_pb2_grpc
from tams_server.convert.events import event_types_to_domain, finish_added_segments
from tams_server.convert.get_urls import GetUrlWriter, filters_to_domain
from tams_server.domain.access import Access, AuthClassMap, current_access
from tams_server.domain.errors import InvalidArgument, OutOfRange, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.storage import StorageBackend
from tams_server.objects.get_urls import GetUrlMaker
from tams_server.objects.urls import ObjectUrls
from tams_server.store.outbox import EventBatch, EventFilter, EventLog, Wakeups

Context = grpc.aio.ServicerContext[object, object]

BATCH_SIZE = 500
_MAX_CURSOR = 2**63 - 1


class EventServicer(events_pb2_grpc.EventServiceServicer):
    """Events over gRPC."""

    def __init__(
        self,
        log: EventLog,
        wakeups: Wakeups,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
        *,
        url_lifetime_s: int,
        classes: AuthClassMap | None,
        poll_s: float,
    ) -> None:
        self._poll_s = poll_s
        self._log = log
        self._wakeups = wakeups
        self._urls = urls
        self._backends = tuple(backends)
        self._url_lifetime_s = url_lifetime_s
        self._classes = classes

    async def WatchEvents(
        self, request: events_pb2.WatchEventsRequest, context: Context
    ) -> AsyncIterator[events_pb2.WatchEventsResponse]:
        wanted = _filter(request)
        urls = self._url_writer(request)
        access = current_access(self._classes)
        cursor = await self._start(request.after_cursor)
        yield events_pb2.WatchEventsResponse(resume_cursor=str(cursor))
        while True:
            waiter = self._wakeups.waiter()
            batch = await self._log.read(cursor, wanted, limit=BATCH_SIZE)
            if batch.pruned_through > cursor:
                raise _expired(cursor, batch.pruned_through)
            if batch.last_cursor == cursor:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.wait(), self._poll_s)
                continue
            cursor = batch.last_cursor
            response = await self._response(batch, access, urls, request.include_object_timerange)
            if response.events:
                response.resume_cursor = str(cursor)
                # The stream waits here while the client is slow: flow control is the
                # back-pressure, and one batch is all this watcher holds.
                yield response

    async def _start(self, after_cursor: str) -> int:
        """The cursor to read after: the one given, or the newest (from now)."""
        pruned, newest = await self._log.bounds()
        if not after_cursor:
            return newest
        cursor = _parse_cursor(after_cursor)
        if cursor > newest:
            raise OutOfRange(
                f"after_cursor {cursor} is newer than the newest event ({newest})",
                reason=Reason.EVENT_CURSOR_AHEAD,
                metadata={"newestCursor": str(newest)},
            )
        if cursor < pruned:
            raise _expired(cursor, pruned)
        return cursor

    async def _response(
        self,
        batch: EventBatch,
        access: Access | None,
        urls: GetUrlWriter | None,
        include_object_timerange: bool,
    ) -> events_pb2.WatchEventsResponse:
        """The batch's events the caller may see, with their cursors and the Segments'
        URLs made now."""
        response = events_pb2.WatchEventsResponse()
        for stored in batch.events:
            if access is not None and not access.can_read(stored.classes):
                continue
            event = response.events.add()
            event.MergeFromString(stored.payload)
            event.cursor = str(stored.cursor)
        await finish_added_segments(
            response.events, include_object_timerange, urls, self._log.locations
        )
        return response

    def _url_writer(self, request: events_pb2.WatchEventsRequest) -> GetUrlWriter | None:
        """What writes the added Segments' get_urls; None when the watcher wants none."""
        filters = filters_to_domain(request.get_url_options, "get_url_options")
        if filters.none_wanted:
            return None
        return GetUrlWriter(
            GetUrlMaker(self._urls, self._backends, filters, expires_s=self._url_lifetime_s)
        )


def _filter(request: events_pb2.WatchEventsRequest) -> EventFilter:
    return EventFilter(
        types=frozenset(event_types_to_domain(request.event_types, "event_types")),
        flow_ids=frozenset(
            check_uuid(value, f"flow_ids[{i}]") for i, value in enumerate(request.flow_ids)
        ),
        source_ids=frozenset(
            check_uuid(value, f"source_ids[{i}]") for i, value in enumerate(request.source_ids)
        ),
    )


def _parse_cursor(text: str) -> int:
    """A cursor as the stream gave it: a decimal number."""
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > _MAX_CURSOR:
        raise InvalidArgument.for_field(
            "after_cursor", f"{text[:40]!r} is not a cursor this service gave"
        )
    return int(text)


def _expired(cursor: int, pruned_through: int) -> OutOfRange:
    return OutOfRange(
        f"the events after cursor {cursor} are no longer kept (retention removed those up "
        f"to cursor {pruned_through}); resume after {pruned_through}, or from now",
        reason=Reason.EVENT_CURSOR_EXPIRED,
        metadata={"prunedThrough": str(pruned_through)},
    )
