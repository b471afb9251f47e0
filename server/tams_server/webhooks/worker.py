"""The delivery worker: claims webhooks with events to deliver (a lease each, so
replicas share the work and each event goes out once per webhook in the normal case),
sends their events in commit order, and records progress after each one.

A failed delivery is retried after an exponential backoff with full jitter, from the
same event (per-webhook order holds); after ``max_attempts`` failures in a row the
webhook goes to ``error`` with the last failure, until a client sets it back to
``created`` (it then resumes at the event that failed). Each webhook is one lane: a
slow receiver holds its own lane, up to its timeout, never another's. The worker
wakes on commits (the outbox's wake-ups) and looks anyway every ``poll_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tams.v1 import events_pb2
from tams_server.convert.events import finish_added_segments
from tams_server.convert.get_urls import GetUrlWriter
from tams_server.domain.access import AuthClassMap
from tams_server.domain.events import EventType
from tams_server.domain.objects import UrlFilters
from tams_server.domain.principal import Principal
from tams_server.domain.storage import StorageBackend
from tams_server.domain.webhooks import Webhook, in_collections
from tams_server.objects.get_urls import GetUrlMaker
from tams_server.objects.urls import ObjectUrls
from tams_server.store.clock import now_ns
from tams_server.store.deliveries import Claimed, DeliveryStore
from tams_server.store.outbox import EventFilter, EventLog, StoredEvent, Wakeups
from tams_server.webhooks.bodies import envelope
from tams_server.webhooks.receivers import Failure, Receivers

log = logging.getLogger("tams_server.webhooks")

# Events read per step.
BATCH = 100
# How long a lane waits for more events before it lets its webhook go (at most a
# quarter of the lease): a busy webhook keeps its lane, and its progress is written a
# few times a lease, not once an event.
LINGER_S = 2.0


@dataclass
class _Lane:
    """A claimed webhook being delivered to: the last event done (delivered, or not
    for it), the last one recorded, and when the record was written."""

    claimed: Claimed
    written_at: float
    done: int = 0
    recorded: int = 0
    delivered: bool = False
    """Whether an event was delivered since the last record (its attempts restart)."""

    def __post_init__(self) -> None:
        self.done = self.recorded = self.claimed.next_cursor - 1


@dataclass(frozen=True)
class DeliverySettings:
    """How deliveries behave."""

    lanes: int = 16
    """Webhooks this replica delivers to at once."""
    lease_s: float = 30.0
    """How long a claim lasts without progress: another replica takes over after."""
    max_attempts: int = 8
    """Failures in a row before the webhook goes to ``error``."""
    first_backoff_s: float = 1.0
    """Upper bound of the pause after the first failure (it doubles each time)."""
    max_backoff_s: float = 300.0
    """Upper bound of any pause."""
    poll_s: float = 1.0
    """How long to wait for a wake-up before looking for work anyway."""
    claim_gap_s: float = 0.1
    """The least time between a look for work that found none and the next: every
    commit wakes the worker, and under live ingest commits come far more often than
    webhooks need claiming (each look is a query)."""


@dataclass(frozen=True)
class UrlMaking:
    """What makes the ``get_urls`` of added Segments: the same parts a listing uses."""

    urls: ObjectUrls
    backends: Sequence[StorageBackend]
    lifetime_s: int


class WebhookDelivery:
    """Delivers the outbox to the webhooks (a background job of each replica)."""

    def __init__(
        self,
        store: DeliveryStore,
        log_: EventLog,
        wakeups: Wakeups,
        receivers: Receivers,
        url_making: UrlMaking,
        settings: DeliverySettings,
        *,
        classes: AuthClassMap | None = None,
        on_posted: Callable[[bool], None] | None = None,
    ) -> None:
        self._classes = classes
        self._store = store
        self._on_posted = on_posted
        self._log = log_
        self._wakeups = wakeups
        self._receivers = receivers
        self._url_making = url_making
        self._settings = settings
        self._owner = f"replica-{uuid.uuid4()}"
        self._lease_ns = int(settings.lease_s * 1e9)
        self._stop = asyncio.Event()
        self._cache = BodyCache()

    async def run(self) -> None:
        """Claim and deliver until stopped; deliveries in flight are then abandoned
        (their leases run out and any replica resumes them)."""
        lanes: set[asyncio.Task[None]] = set()
        found_none_at: float | None = None
        try:
            while not self._stop.is_set():
                if found_none_at is not None:
                    await self._pause(found_none_at + self._settings.claim_gap_s)
                waiter = self._wakeups.waiter()
                free = self._settings.lanes - len(lanes)
                claimed = await self._claim(free)
                found_none_at = None if claimed or free <= 0 else time.monotonic()
                for item in claimed:
                    lane = asyncio.create_task(self._deliver(item))
                    lanes.add(lane)
                    lane.add_done_callback(lanes.discard)
                if claimed and len(lanes) < self._settings.lanes:
                    continue  # more may be due
                await self._idle(waiter, lanes)
        finally:
            for lane in lanes:
                lane.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
            await self._receivers.aclose()

    def stop(self) -> None:
        """Ask the worker to stop."""
        self._stop.set()

    async def _claim(self, free: int) -> list[Claimed]:
        if free <= 0:
            return []
        try:
            return await self._store.claim(self._owner, limit=free, lease_ns=self._lease_ns)
        except Exception:  # a failing claim must not end delivery
            log.exception("claiming webhook deliveries failed; trying again later")
            return []

    async def _pause(self, until: float) -> None:
        """Wait until the monotonic time ``until``, or the stop."""
        remaining = until - time.monotonic()
        if remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), remaining)

    async def _idle(self, waiter: asyncio.Event, lanes: set[asyncio.Task[None]]) -> None:
        """Wait for a commit, a lane to end, the stop, or the poll interval."""
        waits = {
            asyncio.ensure_future(waiter.wait()),
            asyncio.ensure_future(self._stop.wait()),
        }
        try:
            await asyncio.wait(
                waits | lanes, timeout=self._settings.poll_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for wait in waits:
                wait.cancel()

    async def _deliver(self, claimed: Claimed) -> None:
        """Deliver a claimed webhook's events as they come, until none has come for a
        while, one fails, the lease or the webhook's wish for events is gone, or the
        worker stops; then record how far it got and let go of it."""
        lane = _Lane(claimed, time.monotonic())
        linger_s = min(LINGER_S, self._settings.lease_s / 4)
        idle_since = time.monotonic()
        try:
            while not self._stop.is_set():
                waiter = self._wakeups.waiter()
                progressed = await self._deliver_batch(lane)
                if progressed is None:
                    return  # a failure (recorded), or no longer ours
                if progressed:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= linger_s:
                    break
                if not await self._record(lane):
                    return
                if not progressed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(waiter.wait(), linger_s)
            if await self._record(lane, now=True):
                await self._store.release(claimed.webhook.id, self._owner)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "delivering to webhook %s failed; its lease will run out", claimed.webhook.id
            )

    async def _deliver_batch(self, lane: _Lane) -> bool | None:
        """Deliver the webhook's next events after the lane's cursor: whether any
        event was read (delivered or filtered out), None when delivery stops."""
        webhook = lane.claimed.webhook
        batch = await self._log.read(lane.done, _filter_of(webhook), limit=BATCH)
        if batch.pruned_through > lane.done:
            log.warning(
                "webhook %s fell behind retention: events up to %d were removed unsent",
                webhook.id, batch.pruned_through,
            )  # fmt: skip
        readable = [] if _wants_none(webhook) else self._readable(lane.claimed, batch.events)
        chosen = await self._in_collections(webhook, readable)
        for cursor, body in await self._bodies(webhook, chosen):
            if not await self._record(lane):  # renews the lease before a long POST
                return None
            failure = await self._post(lane.claimed, cursor, body)
            if failure is not None:
                await self._failed(lane, failure)
                return None
            lane.done = cursor
            lane.delivered = True
        progressed = batch.last_cursor > lane.done or bool(chosen)
        lane.done = max(lane.done, batch.last_cursor)
        return progressed

    async def _record(self, lane: _Lane, *, now: bool = False) -> bool:
        """Record the lane's progress and renew its lease, at most every quarter lease
        (or ``now``): a replica that dies resends at most that much, at least once.
        False when the lease or the webhook's wish for events is gone."""
        clock = time.monotonic()
        due = clock - lane.written_at >= self._settings.lease_s / 4
        if not due and not (now and lane.done > lane.recorded):
            return True
        kept = await self._store.progress(
            lane.claimed.webhook.id, self._owner, next_cursor=lane.done + 1,
            delivered=lane.delivered, lease_ns=self._lease_ns,
        )  # fmt: skip
        lane.recorded, lane.written_at, lane.delivered = lane.done, clock, False
        return kept

    def _readable(self, claimed: Claimed, events: list[StoredEvent]) -> list[StoredEvent]:
        """The events the webhook's owner groups may read (auth_classes), as a watcher
        with those groups gets them."""
        if self._classes is None or claimed.owner_groups is None:
            return events
        access = self._classes.access_for(Principal("webhook", groups=claimed.owner_groups))
        if access is None:
            return events
        return [event for event in events if access.can_read(event.classes)]

    async def _in_collections(
        self, webhook: Webhook, events: list[StoredEvent]
    ) -> list[StoredEvent]:
        """The events that pass the webhook's collection filters, as collections are
        now."""
        if webhook.flow_collected_by_ids is None and webhook.source_collected_by_ids is None:
            return events
        flow_ids = {e.flow_id for e in events if e.flow_id is not None}
        source_ids = {e.source_id for e in events if e.source_id is not None}
        of_flows, of_sources = await self._store.collected_by(flow_ids, source_ids)
        return [
            e
            for e in events
            if in_collections(
                webhook.flow_collected_by_ids,
                None if e.flow_id is None else of_flows.get(e.flow_id, ()),
            )
            and in_collections(
                webhook.source_collected_by_ids,
                None if e.source_id is None else of_sources.get(e.source_id, ()),
            )
        ]

    async def _bodies(self, webhook: Webhook, events: list[StoredEvent]) -> list[tuple[int, bytes]]:
        """The JSON body of each event for this webhook. Webhooks that shape segments
        alike share bodies (``BodyCache``): ten webhooks on a busy Flow build each
        body once, not ten times."""
        shape = _shape_of(webhook)
        bodies = {e.cursor: body for e in events if (body := self._cache.get(e.cursor, shape))}
        missing = [e for e in events if e.cursor not in bodies]
        if missing:
            messages = _decoded(missing)
            await finish_added_segments(
                messages, bool(webhook.include_object_timerange), self._url_writer(webhook),
                self._log.locations,
            )  # fmt: skip
            for message in messages:
                body = json.dumps(envelope(message), separators=(",", ":")).encode()
                bodies[int(message.cursor)] = body
                self._cache.put(int(message.cursor), shape, body)
        return [(e.cursor, bodies[e.cursor]) for e in events]

    async def _post(self, claimed: Claimed, cursor: int, body: bytes) -> Failure | None:
        webhook = claimed.webhook
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(cursor)}
        if webhook.api_key_name and claimed.api_key_value is not None:
            headers[webhook.api_key_name] = claimed.api_key_value
        failure = await self._receivers.post(webhook.url, body, headers)
        if self._on_posted is not None:
            self._on_posted(failure is None)
        return failure

    async def _failed(self, lane: _Lane, failure: Failure) -> None:
        """Record a failed POST with the lane's progress: retry later from that event,
        or (the attempts spent) put the webhook in ``error``."""
        claimed = lane.claimed
        attempts = (
            1 if lane.delivered or lane.recorded >= claimed.next_cursor else (claimed.attempts + 1)
        )
        retry_at = None
        if attempts < self._settings.max_attempts:
            bound = min(
                self._settings.first_backoff_s * 2 ** (attempts - 1), self._settings.max_backoff_s
            )
            retry_at = now_ns() + int(random.uniform(0, bound) * 1e9)
        log.warning(
            "webhook %s: attempt %d failed (%s)%s", claimed.webhook.id, attempts,
            failure.summary, "" if retry_at else "; it is now in error",
        )  # fmt: skip
        await self._store.failed(
            claimed.webhook.id, self._owner, next_cursor=lane.done + 1, attempts=attempts,
            failure=failure.stored(), retry_at_ns=retry_at,
        )  # fmt: skip

    def _url_writer(self, webhook: Webhook) -> GetUrlWriter | None:
        """The webhook's get_urls options as a listing's."""
        filters = UrlFilters(
            labels=None if webhook.accept_get_urls is None else frozenset(webhook.accept_get_urls),
            storage_ids=(
                frozenset(webhook.accept_storage_ids) if webhook.accept_storage_ids else None
            ),
            presigned=webhook.presigned,
            verbose=bool(webhook.verbose_storage),
        )
        if filters.none_wanted:
            return None
        making = self._url_making
        return GetUrlWriter(
            GetUrlMaker(making.urls, making.backends, filters, expires_s=making.lifetime_s)
        )


Shape = tuple[object, ...]


def _shape_of(webhook: Webhook) -> Shape:
    """What decides a body besides its event: the options that shape segments."""
    return (
        webhook.include_object_timerange, webhook.accept_get_urls, webhook.accept_storage_ids,
        webhook.presigned, webhook.verbose_storage,
    )  # fmt: skip


class BodyCache:
    """The last bodies built, by event and shape; small, since a body of a thousand
    segments is a few hundred KiB, and lanes on the same events run close together."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._bodies: OrderedDict[tuple[int, Shape], bytes] = OrderedDict()

    def get(self, cursor: int, shape: Shape) -> bytes | None:
        return self._bodies.get((cursor, shape))

    def put(self, cursor: int, shape: Shape, body: bytes) -> None:
        self._bodies[(cursor, shape)] = body
        while len(self._bodies) > self._size:
            self._bodies.popitem(last=False)


def _wants_none(webhook: Webhook) -> bool:
    """``flow_ids: []`` or ``source_ids: []``: a filter no event passes (unset, None,
    is no filter at all)."""
    return webhook.flow_ids == () or webhook.source_ids == ()


def _filter_of(webhook: Webhook) -> EventFilter:
    """The filters the outbox applies in its query."""
    return EventFilter(
        types=frozenset(EventType(name) for name in webhook.events),
        flow_ids=frozenset(webhook.flow_ids or ()),
        source_ids=frozenset(webhook.source_ids or ()),
    )


def _decoded(events: list[StoredEvent]) -> list[events_pb2.Event]:
    messages = []
    for stored in events:
        message = events_pb2.Event.FromString(stored.payload)
        message.cursor = str(stored.cursor)
        messages.append(message)
    return messages
