"""The outbox: events written in the transaction of their change, read in commit order.

Writing (``Outbox``, the database's commit hook): the changes a transaction recorded
(``store.changes``) become rows of ``events`` as its last statements. On PostgreSQL
the insert waits for a transaction-scoped advisory lock held until commit, so cursors
are handed out in commit order: a reader that has seen cursor N can never later find
a smaller one committed. SQLite has one writer at a time already. A rolled-back
transaction takes its events with it; a committed one always has them.

Reading (``EventLog``): the events after a cursor, filtered in the query, a bounded
batch at a time; the oldest cursor still kept (retention removes older ones).

Waking (``Wakeups``): readers wait for a commit instead of polling: a commit in this
process wakes them at once; on PostgreSQL a NOTIFY sent by the committing transaction
wakes readers in every replica (``PostgresListener``); on SQLite, the sibling processes
of ``serve --processes N`` wake each other (``tams_server.processes.wakeups``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.events import Event, EventType, FlowChanged, SourceChanged, keys_of
from tams_server.domain.objects import ObjectLocation
from tams_server.store import schema
from tams_server.store.changes import FlowTouched, SourceTouched
from tams_server.store.clock import now_ns
from tams_server.store.dialect import upsert
from tams_server.store.engine import Database
from tams_server.store.flows import load_flows
from tams_server.store.objects import read_locations
from tams_server.store.sources import load_sources

log = logging.getLogger("tams_server.events")

events = schema.events
# The PostgreSQL NOTIFY channel, and the advisory lock that orders cursors by commit.
CHANNEL = "tams_events"
_ORDER_LOCK = 0x7A4D5F6576656E74  # "zM_event": any constant all replicas share
# service_settings key: the highest cursor retention has removed.
PRUNED_THROUGH = "events_pruned_through"

EventEncoder = Callable[[Event, int], bytes]
"""Makes an event's stored payload from the event and its time (ns)."""


class Wakeups:
    """Wakes the readers waiting for new events. A reader takes ``waiter()`` before
    it reads, so a commit between its read and its wait still wakes it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def waiter(self) -> asyncio.Event:
        """What the next commit sets."""
        return self._event

    def wake(self) -> None:
        """New events may be there: wake every waiter."""
        self._event.set()
        self._event = asyncio.Event()


class Waker(Protocol):
    """What a commit wakes: this process's readers (``Wakeups``), or more."""

    def wake(self) -> None:
        """New events may be there."""


class Outbox:
    """Writes a transaction's events (the database's commit hook)."""

    def __init__(self, encode: EventEncoder, wakeups: Waker) -> None:
        self._encode = encode
        self.wakeups = wakeups

    async def before_commit(self, conn: AsyncConnection, changes: list[Any]) -> None:
        """Insert the events of ``changes``, in order, as the last statements."""
        resolved = await _resolve(conn, changes)
        if not resolved:
            return
        now = now_ns()
        rows = []
        for event in resolved:
            keys = keys_of(event)
            rows.append({
                "event_type": keys.type.value, "flow_id": keys.flow_id,
                "source_id": keys.source_id, "created_ns": now,
                "auth_classes": list(keys.classes) or None, "payload": self._encode(event, now),
            })  # fmt: skip
        postgresql = conn.dialect.name == "postgresql"
        if postgresql:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ORDER_LOCK})
        await conn.execute(events.insert(), rows)
        if postgresql:  # delivered at commit, to every replica listening
            await conn.execute(text(f"NOTIFY {CHANNEL}"))

    def committed(self) -> None:
        """Wake this process's readers."""
        self.wakeups.wake()


async def _resolve(conn: AsyncConnection, changes: Sequence[Any]) -> list[Event]:
    """The events of recorded changes: each touched Flow or Source once, as the
    transaction leaves it, at the place it was first touched (created wins over
    changed); one gone by now (deleted in the same transaction) has no such event."""
    flows_touched: dict[str, bool] = {}
    sources_touched: dict[str, bool] = {}
    for change in changes:
        if isinstance(change, FlowTouched):
            flows_touched[change.flow_id] = (
                flows_touched.get(change.flow_id, False) or change.created
            )
        elif isinstance(change, SourceTouched):
            created = sources_touched.get(change.source_id, False) or change.created
            sources_touched[change.source_id] = created
    flows = await load_flows(conn, list(flows_touched)) if flows_touched else {}
    sources = await load_sources(conn, list(sources_touched)) if sources_touched else {}
    resolved: list[Event] = []
    done: set[tuple[type, str]] = set()
    for change in changes:
        if isinstance(change, FlowTouched):
            key: tuple[type, str] = (FlowTouched, change.flow_id)
            flow = flows.get(change.flow_id)
            if key not in done and flow is not None:
                resolved.append(FlowChanged(flow, flows_touched[change.flow_id]))
            done.add(key)
        elif isinstance(change, SourceTouched):
            key = (SourceTouched, change.source_id)
            source = sources.get(change.source_id)
            if key not in done and source is not None:
                resolved.append(SourceChanged(source, sources_touched[change.source_id]))
            done.add(key)
        else:
            resolved.append(change)
    return resolved


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a reader wants: empty collections mean all."""

    types: Collection[EventType] = ()
    flow_ids: Collection[str] = ()
    source_ids: Collection[str] = ()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the outbox keeps it."""

    cursor: int
    classes: tuple[str, ...]
    payload: bytes
    flow_id: str | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events after a cursor, and where the reading got to: past the last event read
    (the events the filter left out included, so a reader resumes after them)."""

    events: list[StoredEvent]
    last_cursor: int
    pruned_through: int


class EventLog:
    """Reads and prunes the outbox."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def bounds(self) -> tuple[int, int]:
        """The cursor retention has removed events up to (0: none removed), and the
        newest cursor (that one when there is no event): "from now" means after it."""
        async with self._db.read() as conn:
            pruned = await _pruned_through(conn)
            newest = await conn.scalar(select(func.max(events.c.cursor)))
            return pruned, max(pruned, int(newest or 0))

    async def read(self, after: int, wanted: EventFilter, *, limit: int) -> EventBatch:
        """Up to ``limit`` events after cursor ``after`` that ``wanted`` keeps, in
        commit order, filtered in the query; the batch also says how far retention
        has removed events.

        The newest cursor is read first and bounds the scan: every smaller cursor has
        committed by then (cursors follow commit order), so a short batch has read
        everything up to it, even with a new snapshot per statement."""
        c = events.c
        async with self._db.read() as conn:
            newest = await conn.scalar(select(func.max(c.cursor)))
            rows: Sequence[Any] = []
            if newest is not None and newest > after:
                rows = (
                    await conn.execute(
                        select(c.cursor, c.auth_classes, c.payload, c.flow_id, c.source_id)
                        .where(c.cursor > after, c.cursor <= newest, *_conditions(wanted))
                        .order_by(c.cursor)
                        .limit(limit)
                    )
                ).all()
            # Read last: retention that removed events while we read shows here.
            pruned = await _pruned_through(conn)
        kept = [
            StoredEvent(
                row.cursor, tuple(row.auth_classes or ()), row.payload, row.flow_id, row.source_id
            )
            for row in rows
        ]
        if len(kept) == limit:
            return EventBatch(kept, kept[-1].cursor, pruned)
        return EventBatch(kept, max(after, int(newest or 0)), pruned)

    async def locations(self, object_ids: Collection[str]) -> dict[str, ObjectLocation]:
        """Where the bytes of the Objects of added Segments are, to make their URLs."""
        async with self._db.read() as conn:
            return await read_locations(conn, object_ids) if object_ids else {}

    async def prune(self, *, before_ns: int, limit: int = 5000) -> int:
        """Remove up to ``limit`` of the oldest events written before ``before_ns``;
        returns how many went. Readers behind them then get OUT_OF_RANGE."""
        async with self._db.write() as conn:
            last = await conn.scalar(
                select(func.max(events.c.cursor)).where(
                    events.c.cursor.in_(
                        select(events.c.cursor)
                        .where(events.c.created_ns < before_ns)
                        .order_by(events.c.cursor)
                        .limit(limit)
                    )
                )
            )
            if last is None:
                return 0
            removed = await conn.execute(delete(events).where(events.c.cursor <= last))
            await conn.execute(
                upsert(conn, schema.settings, ["key"], {"value": str(last)}).values(
                    key=PRUNED_THROUGH, value=str(last)
                )
            )
            return int(removed.rowcount)


def _conditions(wanted: EventFilter) -> list[ColumnElement[bool]]:
    """ADR 0026's filters: each one set must match; ``flow_ids`` keeps Flow events only."""
    c = events.c
    conditions: list[ColumnElement[bool]] = []
    if wanted.types:
        conditions.append(c.event_type.in_([kind.value for kind in wanted.types]))
    if wanted.flow_ids:
        conditions.append(c.flow_id.in_(list(wanted.flow_ids)))
    if wanted.source_ids:
        conditions.append(c.source_id.in_(list(wanted.source_ids)))
    return conditions


async def _pruned_through(conn: AsyncConnection) -> int:
    value = await conn.scalar(
        select(schema.settings.c.value).where(schema.settings.c.key == PRUNED_THROUGH)
    )
    return int(value) if value is not None else 0


class PostgresListener:
    """Listens on the NOTIFY channel with one connection of its own and wakes this
    replica's readers for commits made anywhere; reconnects after a failure (readers
    poll meanwhile, so a lost notification costs latency, never an event)."""

    def __init__(self, database: Database, wakeups: Wakeups, *, retry_s: float = 1.0) -> None:
        self._db = database
        self._wakeups = wakeups
        self._retry_s = retry_s
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Listen until stopped."""
        while not self._stop.is_set():
            try:
                await self._listen()
            except Exception:  # a lost connection must not end the listener
                log.warning("event notifications lost; listening again", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._retry_s)

    async def _listen(self) -> None:
        lost = asyncio.Event()
        async with self._db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection

            def notified(*_: object) -> None:
                self._wakeups.wake()

            await driver.add_listener(CHANNEL, notified)
            driver.add_termination_listener(lambda *_: lost.set())
            self._wakeups.wake()  # what committed while we were not listening
            stopped = asyncio.ensure_future(self._stop.wait())
            gone = asyncio.ensure_future(lost.wait())
            try:
                await asyncio.wait({stopped, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
                gone.cancel()
            if not lost.is_set():
                await driver.remove_listener(CHANNEL, notified)

    def stop(self) -> None:
        """Stop listening."""
        self._stop.set()
