"""Segments in the store: overlap-safe registration, window listings in keyset order,
deletion by timerange.

A window query reads ``start_ns >= q_start - max_segment_ns AND start_ns < q_end AND
end_ns > q_start`` on the (flow_id, start_ns) key: the Flow's longest Segment bounds
how far back an overlapping Segment can start, so the scan is O(log n + k) at any
place in the Flow (design decision 4), never ``end_ns > x`` alone.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Label,
    Select,
    Text,
    bindparam,
    delete,
    insert,
    literal,
    literal_column,
    null,
    select,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import Access, classes_of
from tams_server.domain.errors import InvalidArgument, PermissionDenied, Reason, TamsError
from tams_server.domain.events import SegmentsAdded, SegmentsDeleted
from tams_server.domain.models import FlowDeleteRequest
from tams_server.domain.object_rules import ObjectLedger
from tams_server.domain.objects import ObjectLocation
from tams_server.domain.segments import (
    LISTED_SEGMENT_FIELDS,
    Deletion,
    ListedSegment,
    Rejection,
    Segment,
    SegmentPost,
    Timeline,
    overlap_error,
    same_segment,
    stored_timerange,
    window_of,
    windows_of,
)
from tams_server.domain.tags import tags_from_json
from tams_server.domain.timerange import INT64_MIN
from tams_server.store.changes import record
from tams_server.store.clock import now_ns
from tams_server.store.deletions import count_covered, covered, create_request
from tams_server.store.engine import Database
from tams_server.store.extent import refresh_extent
from tams_server.store.flows import flow_not_found, flow_read_only
from tams_server.store.object_places import PLACE_COLUMNS, Place, places_of, refresh_places
from tams_server.store.objects import read_locations, read_states, save_states
from tams_server.store.paging import Pager, PageTokenCodec, fingerprint
from tams_server.store.raw import fetch_all, fetch_packed, insert_rows
from tams_server.store.releases import Removed, delete_segments_releasing
from tams_server.store.resources import check_row_access, readable_row
from tams_server.store.schema import deleted_segments, flow_tags, flows, objects, segments
from tams_server.store.tags import readable_clause

c = segments.c
Rows = Sequence[Sequence[Any]]
Places = Mapping[str, ObjectLocation]

# A listing row: the columns of ``ListedSegment``, in its order; a ``show_deleted``
# listing's rows go on with ``_DELETION`` and the (kind, seq) of their key.
_FIELDS = LISTED_SEGMENT_FIELDS
_SEGMENT_NAMES = _FIELDS[: _FIELDS.index("init_object_id") + 1]
_OBJECT_COLUMNS = (
    objects.c.storage_id, objects.c.storage_key, objects.c.get_urls, objects.c.extra_instances
)  # fmt: skip
# A live Segment's copy of the same (``store.object_places``), under the same names.
_PLACE_COLUMNS = tuple(
    c[copy].label(col.name) for copy, col in zip(PLACE_COLUMNS, _OBJECT_COLUMNS, strict=True)
)
_NO_OBJECT = tuple(null().label(col.name) for col in _OBJECT_COLUMNS)
# What a soft-deleted Segment keeps: all but the copy of its Object's place.
_KEPT_WHEN_DELETED = tuple(col for col in segments.c if col.name not in PLACE_COLUMNS)
_WIDTH = len(_FIELDS)
_DELETION = ("deleted_ns", "deleted_by")
_KIND, _SEQ = _WIDTH + len(_DELETION), _WIDTH + len(_DELETION) + 1
_START = _FIELDS.index("start_ns")
_OBJECT_ID = _FIELDS.index("object_id")
_INIT_OBJECT = _FIELDS.index("init_object_id")
_EXTRA_INSTANCES = _FIELDS.index("extra_instances")


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


@dataclass(frozen=True)
class Listing:
    """A listing of one Flow's Segments: which window, with the soft-deleted ones
    (AIP-164 ``show_deleted``) or not, with where their Objects are (for get_urls) or
    not."""

    flow_id: str
    window: Window
    show_deleted: bool = False
    with_objects: bool = False

    @property
    def fingerprint(self) -> str:
        """What a page token of this listing is bound to."""
        return fingerprint("segments", self.flow_id, self.window, self.show_deleted)


@dataclass(frozen=True)
class SegmentsToDelete:
    """What a deletion of Segments takes: those of ``flow_id`` that lie wholly inside
    ``[start_ns, end_ns)`` (TAMS: covered, unlike a listing's overlap), optionally only
    those of one Object; ``soft`` moves them, with who and when, to the deleted
    Segments instead."""

    flow_id: str
    start_ns: int
    end_ns: int
    object_id: str | None = None
    soft: bool = False


@dataclass(frozen=True)
class SegmentPage:
    """One page of a listing: its Segments in order, their deletions (``show_deleted``
    listings: one for each Segment, None for a live one; otherwise empty), where the
    Objects the rows do not locate are, and the token of the next page ("" for
    none)."""

    segments: Sequence[ListedSegment]
    deletions: Sequence[Deletion | None]
    places: Places
    next_page_token: str

    @property
    def bounds(self) -> tuple[int, int] | None:
        """The earliest start and latest end of the page's Segments; None if empty."""
        if not self.segments:
            return None
        return min(s[0] for s in self.segments), max(s[1] for s in self.segments)  # start, end


class SegmentStore:
    """Use cases on Segments, each one transaction."""

    def __init__(
        self, database: Database, tokens: PageTokenCodec, *, inline_delete_limit: int
    ) -> None:
        self._db = database
        self._tokens = tokens
        self._inline_limit = inline_delete_limit

    async def register(
        self,
        flow_id: str,
        candidates: Sequence[tuple[int, Segment]],
        *,
        uploaded: Mapping[str, int | None] | None = None,
        backend_labels: frozenset[str] = frozenset(),
        allocate_on: str | None = None,
        access: Access | None = None,
    ) -> tuple[int, list[Rejection]]:
        """Store every candidate that overlaps neither a stored Segment nor an earlier
        candidate and may use its Objects (``domain.object_rules``; ``uploaded`` are
        the allocated Objects whose bytes were just found in their backend, with their
        sizes); return the count stored and the rejections. A missing Flow is
        NOT_FOUND and a read-only one FLOW_READ_ONLY, for the whole call; so is one the
        caller's ``access`` hides or may not write. A post reusing an Object only Flows
        the caller may not read use is refused (AUTH_CLASS_DENIED). With
        ``allocate_on`` (a backend id), an unknown Object is allocated there by its
        first Segment (``ObjectLedger``), uploaded with the Flow's container type."""
        async with self._db.write() as conn:
            flow = await _writable_flow(conn, flow_id, access)
            if not candidates:
                return 0, []
            if not self._db.is_sqlite:
                await conn.exec_driver_sql(_KEY_ORDER_ONLY)
            stored: list[StoredSegment] = []
            max_segment = flow.max_segment_ns
            for lo, hi in windows_of([s for _, s in candidates], gap=max_segment):
                stored += await fetch_all(
                    conn, _STORED_IN_WINDOW, _window_params(flow_id, lo, hi, max_segment)
                )
            timeline = Timeline((row[0], row[1], row[2]) for row in stored)
            in_place = {(row[0], row[1]): row for row in stored}
            states = await read_states(conn, objects_of(candidates), uploaded=uploaded or {})
            hidden = await _hidden_objects(
                conn, flow_id, {state.id for state in states if state.registered}, access
            )
            hidden_flows = await _hidden_first_flows(
                conn, flow_id, {s.first_flow_id for s in states if not s.registered}, access
            )
            ledger = ObjectLedger(
                flow_id, states, backend_labels=backend_labels, hidden_flows=hidden_flows,
                allocate_on=allocate_on,
            )  # fmt: skip
            accepted: list[Segment] = []
            rejections: list[Rejection] = []
            again = 0  # posts identical to a stored Segment: registered already
            for index, segment in candidates:
                error = _hidden_use(segment.post, hidden) or _placed(segment, timeline, ledger)
                if error is not None and _registered_already(segment, in_place, ledger):
                    again += 1
                    continue
                if error is not None:
                    post = segment.post
                    rejections.append(Rejection(index, post.object_id, post.timerange, error))
                    continue
                timeline.add(segment.start_ns, segment.end_ns, segment.post.timerange)
                accepted.append(segment)
            now = now_ns()
            await save_states(conn, ledger.states, now, content_type=flow.container)
            await refresh_places(conn, [s.id for s in ledger.states if s.urls_added])
            if accepted:
                await _insert(conn, flow, accepted, now, places_of(ledger.states))
                classes = classes_of(tags_from_json(flow.tags))
                record(conn, SegmentsAdded(flow_id, flow.source_id, classes, accepted))
            return len(accepted) + again, rejections

    async def page(
        self, listing: Listing, *, page_size: int, page_token: str, access: Access | None = None
    ) -> SegmentPage:
        """One page of a listing after ``page_token``; a Flow that does not exist (or
        that ``access`` hides) has no Segments."""
        pager, after = self._pager(listing, page_size, page_token)
        if _window_empty(listing):
            return SegmentPage((), (), {}, "")
        # One unit of work for the Flow's check and the page: on PostgreSQL a unary
        # page is then one transaction of round trips, not two.
        async with self._reading() as conn:
            max_segment = await _max_segment(conn, listing.flow_id, access)
            if max_segment is None:
                return SegmentPage((), (), {}, "")
            rows, places = await _read_rows(conn, listing, max_segment, after, pager.limit)
        rows, token = pager.cut(rows, _key_of(listing))
        return _page(listing, rows, places, token)

    async def pages(
        self,
        listing: Listing,
        *,
        page_size: int,
        page_token: str,
        limit: int | None,
        access: Access | None = None,
    ) -> AsyncIterator[SegmentPage]:
        """Every page of a listing after ``page_token``, up to ``limit`` Segments in
        all (None: no limit); each but the last carries the token that resumes after
        it. The next page is read while the caller handles this one: the database works
        on it while a page is converted and sent, instead of each waiting for the
        other."""
        pager, after = self._pager(listing, page_size, page_token)
        max_segment = await self._listable(listing, access)
        if max_segment is None:
            return
        key_of = _key_of(listing)
        remaining = limit

        def want() -> int:
            return page_size if remaining is None else min(page_size, remaining)

        asked = want()
        pending = asyncio.ensure_future(self._read(listing, max_segment, after, asked))
        try:
            while True:
                rows, places = await pending
                if not rows:
                    return
                if remaining is not None:
                    remaining -= len(rows)
                done = len(rows) < asked or remaining == 0
                token = ""
                if not done:
                    last = key_of(rows[-1])
                    asked = want()
                    pending = asyncio.ensure_future(self._read(listing, max_segment, last, asked))
                    token = pager.next_token(last)
                    # The read starts now, up to its hand-off to the database, so that
                    # the database works while the caller converts this page; else
                    # it would start at the caller's next await, after the work.
                    await asyncio.sleep(0)
                yield _page(listing, rows, places, token)
                if done:
                    return
        finally:
            pending.cancel()

    def _pager(
        self, listing: Listing, page_size: int, page_token: str
    ) -> tuple[Pager, list[int] | None]:
        """The listing's pager, and the key its page token resumes after."""
        pager = Pager(self._tokens, listing.fingerprint, page_size)
        after = pager.resume(page_token)
        if after is None:
            return pager, None
        key_width = 3 if listing.show_deleted else 1  # see _key_of
        if len(after) != key_width or not all(isinstance(part, int) for part in after):
            raise InvalidArgument.for_field("page_token", "is not a segment page token")
        return pager, [part for part in after if isinstance(part, int)]

    async def _listable(self, listing: Listing, access: Access | None) -> int | None:
        """The Flow's longest Segment, which bounds the listing's scan; None when the
        listing has nothing (an empty window, no such Flow, one hidden from the
        caller: the one access check of a listing, never one per Segment)."""
        if _window_empty(listing):
            return None
        async with self._db.read(snapshot=False, inline=True) as conn:  # one Flow's row
            return await _max_segment(conn, listing.flow_id, access)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A listing's unit of work: on PostgreSQL a snapshot that walks the key in
        order (``_KEY_ORDER_ONLY``); on SQLite single statements need none."""
        snapshot = not self._db.is_sqlite
        async with self._db.read(snapshot=snapshot) as conn:
            if snapshot:
                await conn.exec_driver_sql(_KEY_ORDER_ONLY)
            yield conn

    async def _read(
        self, listing: Listing, max_segment: int, after: list[int] | None, limit: int
    ) -> tuple[Rows, Places]:
        """Up to ``limit`` rows of a listing after the key ``after`` (``_read_rows``)."""
        async with self._reading() as conn:
            return await _read_rows(conn, listing, max_segment, after, limit)

    async def delete(
        self, target: SegmentsToDelete, *, actor: str | None, access: Access | None = None
    ) -> tuple[int, FlowDeleteRequest | None]:
        """Delete the Segments ``target`` covers. Up to the inline limit they go now
        (the count is returned); beyond it a flow delete request takes over in the
        background. Soft deletion always goes at once."""
        async with self._db.write() as conn:
            flow = await _writable_flow(conn, target.flow_id, access)
            if target.start_ns >= target.end_ns:
                return 0, None
            where = (target.flow_id, target.start_ns, target.end_ns, target.object_id)
            many = await count_covered(conn, *where, up_to=self._inline_limit + 1)
            if many > self._inline_limit and not target.soft:
                request = await create_request(
                    conn, flow_id=target.flow_id, start_ns=target.start_ns,
                    end_ns=target.end_ns, object_id=target.object_id, delete_flow=False,
                    created_by=actor,
                )  # fmt: skip
                return 0, request
            conditions = covered(*where)
            if target.soft:
                now = literal(now_ns(), BigInteger)
                await conn.execute(
                    insert(deleted_segments).from_select(
                        [*(col.name for col in _KEPT_WHEN_DELETED), "deleted_ns", "deleted_by"],
                        select(*_KEPT_WHEN_DELETED, now, literal(actor, Text)).where(*conditions),
                    )
                )
            if target.soft:
                removed = await _delete_moved(conn, conditions)
            else:
                removed = await delete_segments_releasing(conn, segments, conditions)
            if removed.deleted:
                await refresh_extent(conn, target.flow_id)
                record(conn, segments_deleted(flow, removed))
            return removed.deleted, None


def segments_deleted(flow: Any, removed: Removed) -> SegmentsDeleted:
    """The event of Segments ``removed`` from a ``flow`` row."""
    classes = classes_of(tags_from_json(flow.tags))
    return SegmentsDeleted(flow.id, flow.source_id, classes, removed.start_ns, removed.end_ns)


async def _delete_moved(conn: AsyncConnection, conditions: Sequence[Any]) -> Removed:
    """Delete live Segments already copied to ``deleted_segments`` (their Objects stay
    in use there)."""
    bounds = (
        await conn.execute(
            delete(segments).where(*conditions).returning(segments.c.start_ns, segments.c.end_ns)
        )
    ).all()
    if not bounds:
        return Removed(0, 0, 0)
    return Removed(len(bounds), min(b[0] for b in bounds), max(b[1] for b in bounds))


def _window_empty(listing: Listing) -> bool:
    return listing.window.start_ns >= listing.window.end_ns


async def _max_segment(conn: AsyncConnection, flow_id: str, access: Access | None) -> int | None:
    """The Flow's longest Segment ever; None when it does not exist or ``access``
    hides it."""
    stmt = select(flows.c.max_segment_ns, flows.c.tags).where(
        flows.c.id == flow_id, flows.c.deleted_ns.is_(None)
    )
    row: Any = (await conn.execute(stmt)).first()
    if row is None or not readable_row(row, access):
        return None
    value: int | None = row.max_segment_ns
    return value


async def _read_rows(
    conn: AsyncConnection,
    listing: Listing,
    max_segment: int,
    after: list[int] | None,
    limit: int,
) -> tuple[Rows, Places]:
    """Up to ``limit`` rows of a listing after the key ``after``, each page one
    statement; with ``with_objects`` also where the Objects the rows do not locate
    are (init Objects, Objects with further copies)."""
    stmt, params = _listing(listing, max_segment, after, limit)
    rows = await fetch_packed(conn, stmt, params)
    if not listing.with_objects or not rows:
        return rows, {}
    wanted = {row[_INIT_OBJECT] for row in rows if row[_INIT_OBJECT] is not None}
    wanted.update(row[_OBJECT_ID] for row in rows if row[_EXTRA_INSTANCES] != 0)
    return rows, await read_locations(conn, wanted) if wanted else {}


def objects_of(candidates: Sequence[tuple[int, Segment]]) -> set[str]:
    """The ids of every Object the candidates use, media and init."""
    ids = {segment.post.object_id for _, segment in candidates}
    ids.update(s.post.init_object_id for _, s in candidates if s.post.init_object_id is not None)
    return ids


async def _writable_flow(conn: AsyncConnection, flow_id: str, access: Access | None) -> Any:
    stmt = select(
        flows.c.id,
        flows.c.source_id,
        flows.c.tags,
        flows.c.read_only,
        flows.c.deleted_ns,
        flows.c.max_segment_ns,
        flows.c.timerange_start_ns,
        flows.c.timerange_end_ns,
        flows.c.container,
    ).where(flows.c.id == flow_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # one registration per Flow at a time
    row: Any = (await conn.execute(stmt)).first()
    if row is None or row.deleted_ns is not None:
        raise flow_not_found(flow_id)
    check_row_access(row, access, write=True, kind="flow", not_found=flow_not_found)
    if row.read_only:
        raise flow_read_only(flow_id)
    return row


async def _hidden_objects(
    conn: AsyncConnection, flow_id: str, object_ids: set[str], access: Access | None
) -> set[str]:
    """Of the registered Objects ``object_ids`` (media and init), those that neither
    this Flow nor a Flow the caller may read uses, as media or as init Object (ADR
    0055: reusing an Object in a new Flow needs read access to a Flow that already
    uses it). Both columns count for both kinds, so an Object only hidden Flows use is
    refused alike whatever its kind (the kind rules come after)."""
    if access is None or not object_ids:
        return set()
    visible = (segments.c.flow_id == flow_id) | readable_clause(
        flow_tags, "flow_id", segments.c.flow_id, access
    )
    as_media = select(segments.c.object_id.label("id")).where(
        segments.c.object_id.in_(object_ids), visible
    )
    as_init = select(segments.c.init_object_id.label("id")).where(
        segments.c.init_object_id.in_(object_ids), visible
    )
    return object_ids - set(await conn.scalars(union(as_media, as_init)))


async def _hidden_first_flows(
    conn: AsyncConnection, flow_id: str, first_flow_ids: set[str | None], access: Access | None
) -> frozenset[str]:
    """Of the Flows other than ``flow_id`` that Objects not yet registered were
    allocated for, those the caller may not read (or that are gone), so that refusing
    such an Object's first use here names none of them (``object_rules``)."""
    others = {other for other in first_flow_ids if other is not None and other != flow_id}
    if access is None or not others:
        return frozenset()
    readable = await conn.scalars(
        select(flows.c.id).where(
            flows.c.id.in_(others),
            flows.c.deleted_ns.is_(None),
            readable_clause(flow_tags, "flow_id", flows.c.id, access),
        )
    )
    return frozenset(others - set(readable))


def _placed(segment: Segment, timeline: Timeline, ledger: ObjectLedger) -> TamsError | None:
    """Why ``segment`` may not go on the timeline with its Objects, or None (then the
    ledger has applied it to them)."""
    other = timeline.conflict(segment.start_ns, segment.end_ns)
    if other is not None:
        return overlap_error(segment, other)
    return ledger.admit(segment)


def _registered_already(
    segment: Segment, in_place: Mapping[tuple[int, int], StoredSegment], ledger: ObjectLedger
) -> bool:
    """Whether ``segment`` repeats the stored Segment at its place exactly (a retry
    after a lost reply): the same fields, and uncontrolled URLs its Object has."""
    row = in_place.get((segment.start_ns, segment.end_ns))
    post = segment.post
    return (
        row is not None
        and same_segment(post, row[3:])
        and ledger.has_urls(post.object_id, post.get_urls)
    )


def _hidden_use(post: SegmentPost, hidden: set[str]) -> PermissionDenied | None:
    """The refusal of a post naming an Object (media, then init) of ``hidden``."""
    if not hidden:
        return None
    for field_name, object_id in (
        ("object_id", post.object_id),
        ("init_object_id", post.init_object_id),
    ):
        if object_id is not None and object_id in hidden:
            return PermissionDenied(
                f"object {object_id} is used only by flows this caller may not read",
                reason=Reason.AUTH_CLASS_DENIED,
                metadata={"objectId": object_id, "field": field_name},
            )
    return None


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


def _key_of(listing: Listing) -> Callable[[Sequence[Any]], list[int]]:
    """The keyset key of a listing's rows: the start, and with deleted Segments in the
    listing also (kind, seq), since those may share a start."""
    if listing.show_deleted:
        return lambda row: [row[_START], row[_KIND], row[_SEQ]]
    return lambda row: [row[_START]]


def _page(listing: Listing, rows: Rows, places: Places, token: str) -> SegmentPage:
    if not listing.show_deleted:
        return SegmentPage(cast(Sequence[ListedSegment], rows), (), places, token)
    return SegmentPage(
        [cast(ListedSegment, tuple(row[:_WIDTH])) for row in rows],
        [Deletion(row[_WIDTH], row[_WIDTH + 1]) if row[_KIND] else None for row in rows],
        places,
        token,
    )


def _window_conditions(
    columns: Any, *, bounded_start: bool, by_object: bool
) -> list[ColumnElement[bool]]:
    """``overlapping`` with bind parameters, for statements built once per shape."""
    conditions = [
        columns.flow_id == bindparam("flow_id"),
        columns.start_ns < bindparam("hi"),
        columns.end_ns > bindparam("lo"),
    ]
    if bounded_start:
        conditions.append(columns.start_ns >= bindparam("earliest_start"))
    if by_object:
        conditions.append(columns.object_id == bindparam("object_id"))
    return conditions


# What registration reads of the stored Segments around a batch: the place, then
# the fields a repeated post must match (``domain.segments.same_segment``).
_STORED_IN_WINDOW = select(
    c.start_ns, c.end_ns, c.timerange, c.object_id, c.ts_offset, c.last_duration,
    c.object_timerange, c.sample_offset, c.sample_count, c.key_frame_count, c.init_object_id,
).where(*_window_conditions(c, bounded_start=True, by_object=False))  # fmt: skip
StoredSegment = Sequence[Any]


def _window_params(flow_id: str, lo: int, hi: int, max_segment: int) -> dict[str, Any]:
    """The parameters of ``_STORED_IN_WINDOW`` for Segments overlapping ``[lo, hi)``."""
    return {
        "flow_id": flow_id, "lo": lo, "hi": hi,
        "earliest_start": max(lo - max_segment, INT64_MIN),
    }  # fmt: skip


@functools.cache
def _listing_statement(
    *,
    bounded_start: bool,
    by_object: bool,
    after: bool,
    reverse: bool,
    with_objects: bool,
    show_deleted: bool,
) -> Select[Any]:
    """The listing query of one shape, with bind parameters: built once per shape so
    that ``raw.fetch_all`` compiles it once per engine."""
    where = functools.partial(_window_conditions, bounded_start=bounded_start, by_object=by_object)
    source: FromClause
    if show_deleted:
        d = deleted_segments.c
        live = select(
            *(c[name] for name in _SEGMENT_NAMES), null().label("deleted_ns"),
            null().label("deleted_by"), _number(0, "kind"), _number(0, "seq"),
        ).where(*where(c))  # fmt: skip
        gone = select(
            *(d[name] for name in _SEGMENT_NAMES), d.deleted_ns, d.deleted_by,
            _number(1, "kind"), d.seq,
        ).where(*where(d))  # fmt: skip
        both = union_all(live, gone).subquery()
        source, columns, conditions = both, both.c, []
        key = [both.c.start_ns, both.c.kind, both.c.seq]
        tail = [*(both.c[name] for name in _DELETION), both.c.kind, both.c.seq]
    else:
        source, columns, conditions = segments, c, where(c)
        key, tail = [c.start_ns], []
    listed: list[ColumnElement[Any]] = [columns[name] for name in _SEGMENT_NAMES]
    if with_objects and not show_deleted:
        listed += _PLACE_COLUMNS
    elif with_objects:  # soft-deleted Segments keep no copy: rare enough for the JOIN
        listed += _OBJECT_COLUMNS
        source = source.outerjoin(objects, objects.c.id == columns.object_id)
    else:
        listed += _NO_OBJECT
    if after:
        marks = [bindparam(f"after_{i}", type_=BigInteger) for i in range(len(key))]
        later, mark = (key[0], marks[0]) if len(key) == 1 else (tuple_(*key), tuple_(*marks))
        conditions.append(later < mark if reverse else later > mark)
    order = [col.desc() if reverse else col.asc() for col in key]
    stmt = select(*listed, *tail).select_from(source).where(*conditions)
    return stmt.order_by(*order).limit(bindparam("limit"))


def _number(value: int, name: str) -> Label[int]:
    """A constant column (no bind parameter: the statement is compiled once)."""
    return literal_column(str(value), BigInteger).label(name)


def _listing(
    listing: Listing, max_segment: int, after: Sequence[int] | None, limit: int
) -> tuple[Select[Any], dict[str, Any]]:
    """The listing query for a window, and its parameters."""
    window = listing.window
    bounded = window.start_ns != INT64_MIN
    stmt = _listing_statement(
        bounded_start=bounded,
        by_object=window.object_id is not None,
        after=after is not None,
        reverse=window.reverse,
        with_objects=listing.with_objects,
        show_deleted=listing.show_deleted,
    )
    params = {
        "flow_id": listing.flow_id,
        "hi": window.end_ns,
        "lo": window.start_ns,
        "earliest_start": max(window.start_ns - max_segment, INT64_MIN) if bounded else None,
        "object_id": window.object_id,
        "limit": limit,
    }
    params.update({f"after_{i}": part for i, part in enumerate(after or ())})
    return stmt, params


_INSERTED_COLUMNS = (
    "flow_id", "start_ns", "end_ns", "timerange", "object_id", "ts_offset", "last_duration",
    "object_timerange", "sample_offset", "sample_count", "key_frame_count", "init_object_id",
    "created_ns", *PLACE_COLUMNS,
)  # fmt: skip


async def _insert(
    conn: AsyncConnection,
    flow: Any,
    accepted: Sequence[Segment],
    now: int,
    places: Mapping[str, Place],
) -> None:
    """Store the accepted Segments, each with its Object's place, and widen the Flow's
    timerange and longest Segment to cover them."""
    rows = []
    for s in accepted:
        p = s.post
        rows.append((
            flow.id, s.start_ns, s.end_ns, stored_timerange(p, s.start_ns, s.end_ns),
            p.object_id, p.ts_offset, p.last_duration, p.object_timerange, p.sample_offset,
            p.sample_count, p.key_frame_count, p.init_object_id, now, *places[p.object_id],
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
