"""Segments in the store: overlap-safe registration, window listings in keyset order,
deletion by timerange.

A window query reads ``start_ns >= q_start - max_segment_ns AND start_ns < q_end AND
end_ns > q_start`` on the (flow_id, start_ns) key: the Flow's longest Segment bounds
how far back an overlapping Segment can start, so the scan is O(log n + k) at any
place in the Flow (design decision 4), never ``end_ns > x`` alone.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Select,
    Text,
    bindparam,
    delete,
    insert,
    literal,
    null,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.models import FlowDeleteRequest
from tams_server.domain.object_rules import ObjectLedger
from tams_server.domain.segments import (
    Rejection,
    Segment,
    Timeline,
    overlap_error,
    stored_timerange,
    window_of,
    windows_of,
)
from tams_server.domain.timerange import INT64_MIN
from tams_server.store.clock import now_ns
from tams_server.store.deletions import count_covered, covered, create_request
from tams_server.store.engine import Database
from tams_server.store.extent import refresh_extent
from tams_server.store.flows import flow_not_found, flow_read_only
from tams_server.store.objects import read_states, save_states
from tams_server.store.raw import fetch_all, insert_rows
from tams_server.store.releases import delete_segments_releasing
from tams_server.store.schema import deleted_segments, flows, objects, segments

c = segments.c

# The columns a listing returns, in the order `SegmentRow` reads them.
LISTED_COLUMNS = (
    c.start_ns,
    c.end_ns,
    c.timerange,
    c.object_id,
    c.ts_offset,
    c.last_duration,
    c.object_timerange,
    c.sample_offset,
    c.sample_count,
    c.key_frame_count,
    c.init_object_id,
    c.get_urls,
)


# PostgreSQL: walk the (flow_id, start_ns) key in order whatever the statistics say.
# Right after a bulk ingest they claim a Flow has a handful of Segments, and the
# planner's bitmap scan of all of them plus a sort costs 100x the index range scan.
_KEY_ORDER_ONLY = "SET LOCAL enable_bitmapscan = off"


@dataclass(frozen=True)
class Window:
    """What a listing asks for: half-open bounds (INT64_MIN/MAX when open), an
    optional Object, the direction."""

    start_ns: int
    end_ns: int
    object_id: str | None = None
    reverse: bool = False


class SegmentStore:
    """Use cases on Segments, each one transaction."""

    def __init__(self, database: Database, *, inline_delete_limit: int) -> None:
        self._db = database
        self._inline_limit = inline_delete_limit

    async def register(
        self,
        flow_id: str,
        candidates: Sequence[tuple[int, Segment]],
        *,
        uploaded: Mapping[str, int | None] | None = None,
        backend_labels: frozenset[str] = frozenset(),
    ) -> tuple[int, list[Rejection]]:
        """Store every candidate that overlaps neither a stored Segment nor an earlier
        candidate and may use its Objects (``domain.object_rules``; ``uploaded`` are
        the allocated Objects whose bytes were just found in their backend, with their
        sizes); return the count stored and the rejections. A missing Flow is
        NOT_FOUND and a read-only one FLOW_READ_ONLY, for the whole call."""
        async with self._db.write() as conn:
            flow = await _writable_flow(conn, flow_id)
            if not candidates:
                return 0, []
            if not self._db.is_sqlite:
                await conn.exec_driver_sql(_KEY_ORDER_ONLY)
            stored: list[tuple[int, int, str]] = []
            max_segment = flow.max_segment_ns
            for lo, hi in windows_of([s for _, s in candidates], gap=max_segment):
                rows = await conn.execute(
                    select(c.start_ns, c.end_ns, c.timerange).where(
                        *_overlapping_window(flow_id, lo, hi, max_segment)
                    )
                )
                stored += [(row[0], row[1], row[2]) for row in rows]
            timeline = Timeline(stored)
            ledger = ObjectLedger(
                flow_id,
                await read_states(conn, objects_of(candidates), uploaded=uploaded or {}),
                backend_labels=backend_labels,
            )
            accepted: list[Segment] = []
            rejections: list[Rejection] = []
            for index, segment in candidates:
                other = timeline.conflict(segment.start_ns, segment.end_ns)
                error = ledger.admit(segment) if other is None else overlap_error(segment, other)
                if error is not None:
                    post = segment.post
                    rejections.append(Rejection(index, post.object_id, post.timerange, error))
                    continue
                timeline.add(segment.start_ns, segment.end_ns, segment.post.timerange)
                accepted.append(segment)
            now = now_ns()
            await save_states(conn, ledger.states, now)
            if accepted:
                await _insert(conn, flow, accepted, now)
            return len(accepted), rejections

    async def max_segment(self, flow_id: str) -> int | None:
        """The longest Segment the Flow ever had; None when the Flow does not exist."""
        async with self._db.read(snapshot=False) as conn:
            value: int | None = await conn.scalar(
                select(flows.c.max_segment_ns).where(
                    flows.c.id == flow_id, flows.c.deleted_ns.is_(None)
                )
            )
            return value

    async def page(
        self,
        flow_id: str,
        window: Window,
        *,
        after_start: int | None,
        limit: int,
        max_segment: int | None = None,
        with_objects: bool = False,
    ) -> Sequence[Sequence[Any]]:
        """Up to ``limit`` Segments of ``window`` after the key ``after_start``, in
        order; a Flow that does not exist has none. A streaming caller passes the
        ``max_segment`` it read once, and each page is then a single statement.
        ``with_objects`` adds ``OBJECT_COLUMNS`` to each row."""
        if window.start_ns >= window.end_ns:
            return []  # the window is never
        if max_segment is None:
            max_segment = await self.max_segment(flow_id)
            if max_segment is None:
                return []
        stmt, params = _listing(flow_id, window, max_segment, after_start, limit, with_objects)
        if self._db.is_sqlite:
            async with self._db.read(snapshot=False) as conn:
                return await fetch_all(conn, stmt, params)
        async with self._db.read() as conn:
            await conn.exec_driver_sql(_KEY_ORDER_ONLY)
            return await fetch_all(conn, stmt, params)

    async def page_with_deleted(
        self,
        flow_id: str,
        window: Window,
        *,
        after_key: Sequence[int] | None,
        limit: int,
    ) -> Sequence[Sequence[Any]]:
        """Like ``page``, live and soft-deleted Segments together (AIP-164
        ``show_deleted``). Rows end with ``deleted_ns, deleted_by, kind, seq``; the
        key is ``(start_ns, kind, seq)``, since deleted Segments may share a start."""
        if window.start_ns >= window.end_ns:
            return []
        max_segment = await self.max_segment(flow_id)
        if max_segment is None:
            return []
        d = deleted_segments.c
        live = select(
            *LISTED_COLUMNS, null().label("deleted_ns"), null().label("deleted_by"),
            literal(0).label("kind"), literal(0).label("seq"),
        ).where(*overlapping(segments.c, flow_id, window, max_segment))  # fmt: skip
        gone = select(
            *(d[col.name] for col in LISTED_COLUMNS), d.deleted_ns, d.deleted_by,
            literal(1).label("kind"), d.seq,
        ).where(*overlapping(d, flow_id, window, max_segment))  # fmt: skip
        both = union_all(live, gone).subquery()
        key = tuple_(both.c.start_ns, both.c.kind, both.c.seq)
        stmt = select(both)
        if after_key is not None:
            after = tuple_(*after_key)
            stmt = stmt.where(key < after if window.reverse else key > after)
        order = [both.c.start_ns, both.c.kind, both.c.seq]
        stmt = stmt.order_by(*(col.desc() for col in order) if window.reverse else order)
        async with self._db.read() as conn:
            return list(await conn.execute(stmt.limit(limit)))

    async def delete(
        self,
        flow_id: str,
        start_ns: int,
        end_ns: int,
        object_id: str | None,
        *,
        actor: str | None,
        soft: bool = False,
    ) -> tuple[int, FlowDeleteRequest | None]:
        """Delete the Segments that lie wholly inside ``[start_ns, end_ns)`` (TAMS:
        covered, unlike a listing's overlap), optionally only those of one Object.
        Up to the inline limit they go now (the count is returned); beyond it a flow
        delete request takes over in the background. ``soft`` moves them, with who and
        when, to the deleted Segments instead (always at once)."""
        async with self._db.write() as conn:
            await _writable_flow(conn, flow_id)
            if start_ns >= end_ns:
                return 0, None
            many = await count_covered(
                conn, flow_id, start_ns, end_ns, object_id, up_to=self._inline_limit + 1
            )
            if many > self._inline_limit and not soft:
                request = await create_request(
                    conn, flow_id=flow_id, start_ns=start_ns, end_ns=end_ns,
                    object_id=object_id, delete_flow=False, created_by=actor,
                )  # fmt: skip
                return 0, request
            conditions = covered(flow_id, start_ns, end_ns, object_id)
            if soft:
                columns = [col.name for col in segments.c]
                now = literal(now_ns(), BigInteger)
                await conn.execute(
                    insert(deleted_segments).from_select(
                        [*columns, "deleted_ns", "deleted_by"],
                        select(*segments.c, now, literal(actor, Text)).where(*conditions),
                    )
                )
            if soft:
                deleted = (await conn.execute(delete(segments).where(*conditions))).rowcount
            else:
                deleted = await delete_segments_releasing(conn, segments, conditions)
            if deleted:
                await refresh_extent(conn, flow_id)
            return int(deleted), None


def objects_of(candidates: Sequence[tuple[int, Segment]]) -> set[str]:
    """The ids of every Object the candidates use, media and init."""
    ids = {segment.post.object_id for _, segment in candidates}
    ids.update(s.post.init_object_id for _, s in candidates if s.post.init_object_id is not None)
    return ids


async def _writable_flow(conn: AsyncConnection, flow_id: str) -> Any:
    stmt = select(
        flows.c.id,
        flows.c.read_only,
        flows.c.deleted_ns,
        flows.c.max_segment_ns,
        flows.c.timerange_start_ns,
        flows.c.timerange_end_ns,
    ).where(flows.c.id == flow_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # one registration per Flow at a time
    row: Any = (await conn.execute(stmt)).first()
    if row is None or row.deleted_ns is not None:
        raise flow_not_found(flow_id)
    if row.read_only:
        raise flow_read_only(flow_id)
    return row


def _overlapping_window(
    flow_id: str, lo: int, hi: int, max_segment: int
) -> list[ColumnElement[bool]]:
    """Live Segments of the Flow that overlap ``[lo, hi)``."""
    return overlapping(c, flow_id, Window(lo, hi), max_segment)


def overlapping(
    columns: Any, flow_id: str, window: Window, max_segment: int
) -> list[ColumnElement[bool]]:
    """Segments (of the table whose ``columns`` are given) overlapping a window."""
    conditions = [
        columns.flow_id == flow_id,
        columns.start_ns < window.end_ns,
        columns.end_ns > window.start_ns,
    ]
    if window.start_ns != INT64_MIN:
        conditions.append(columns.start_ns >= max(window.start_ns - max_segment, INT64_MIN))
    if window.object_id is not None:
        conditions.append(columns.object_id == window.object_id)
    return conditions


# With ``with_objects``, a listing row goes on with where its Object's bytes are.
OBJECT_COLUMNS = (
    objects.c.storage_id, objects.c.storage_key, objects.c.get_urls, objects.c.extra_instances
)  # fmt: skip


@functools.cache
def _listing_statement(
    *, bounded_start: bool, by_object: bool, after: bool, reverse: bool, with_objects: bool
) -> Select[Any]:
    """The listing query of one shape, with bind parameters: built once per shape so
    that ``raw.fetch_all`` compiles it once per engine."""
    conditions = [
        c.flow_id == bindparam("flow_id"),
        c.start_ns < bindparam("hi"),
        c.end_ns > bindparam("lo"),
    ]
    if bounded_start:
        conditions.append(c.start_ns >= bindparam("earliest_start"))
    if by_object:
        conditions.append(c.object_id == bindparam("object_id"))
    if after:
        key: BindParameter[int] = bindparam("after")
        conditions.append(c.start_ns < key if reverse else c.start_ns > key)
    order = c.start_ns.desc() if reverse else c.start_ns.asc()
    stmt = select(*LISTED_COLUMNS)
    if with_objects:
        stmt = select(*LISTED_COLUMNS, *OBJECT_COLUMNS).select_from(
            segments.outerjoin(objects, objects.c.id == c.object_id)
        )
    return stmt.where(*conditions).order_by(order).limit(bindparam("limit"))


def _listing(
    flow_id: str,
    window: Window,
    max_segment: int,
    after_start: int | None,
    limit: int,
    with_objects: bool,
) -> tuple[Select[Any], dict[str, Any]]:
    """The listing query for a window, and its parameters."""
    bounded = window.start_ns != INT64_MIN
    stmt = _listing_statement(
        bounded_start=bounded,
        by_object=window.object_id is not None,
        after=after_start is not None,
        reverse=window.reverse,
        with_objects=with_objects,
    )
    params = {
        "flow_id": flow_id,
        "hi": window.end_ns,
        "lo": window.start_ns,
        "earliest_start": max(window.start_ns - max_segment, INT64_MIN) if bounded else None,
        "object_id": window.object_id,
        "after": after_start,
        "limit": limit,
    }
    return stmt, params


_INSERTED_COLUMNS = (
    "flow_id", "start_ns", "end_ns", "timerange", "object_id", "ts_offset", "last_duration",
    "object_timerange", "sample_offset", "sample_count", "key_frame_count", "init_object_id",
    "get_urls", "created_ns",
)  # fmt: skip


async def _insert(conn: AsyncConnection, flow: Any, accepted: Sequence[Segment], now: int) -> None:
    rows = []
    for s in accepted:
        p = s.post
        rows.append((
            flow.id, s.start_ns, s.end_ns, stored_timerange(p, s.start_ns, s.end_ns),
            p.object_id, p.ts_offset, p.last_duration, p.object_timerange, p.sample_offset,
            p.sample_count, p.key_frame_count, p.init_object_id, None, now,
        ))  # fmt: skip
    await insert_rows(conn, segments, _INSERTED_COLUMNS, rows)
    lo, hi = window_of(accepted)
    longest = max(s.end_ns - s.start_ns for s in accepted)
    start = lo if flow.timerange_start_ns is None else min(lo, flow.timerange_start_ns)
    end = hi if flow.timerange_end_ns is None else max(hi, flow.timerange_end_ns)
    await conn.execute(
        update(flows)
        .where(flows.c.id == flow.id)
        .values(
            timerange_start_ns=start,
            timerange_end_ns=end,
            max_segment_ns=max(longest, flow.max_segment_ns),
            segments_updated_ns=now,
        )
    )
