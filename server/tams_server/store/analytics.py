"""Aggregates over the metadata for the analytics RPCs: counts and sums done by the
database (GROUP BY, window functions), never by reading rows into Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    exists,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import Access
from tams_server.domain.errors import NotFound, Reason
from tams_server.store.clock import now_ns
from tams_server.store.dialect import month_of_ns
from tams_server.store.engine import Database
from tams_server.store.schema import flow_tags, flows, object_instances, objects, segments
from tams_server.store.segments import Window, overlapping
from tams_server.store.tags import readable_clause
from tams_server.tai import utc_offset_periods

_DAY_NS = 86_400 * 10**9
_HOUR_NS = 3_600 * 10**9
_SECOND_NS = 10**9
# Segment duration buckets of the usage guide: label, lower bound (inclusive).
DURATION_BUCKETS = (("0-10s", 0), ("10-30s", 10), ("30-60s", 30), ("60s+", 60))
PERCENTILES = (25, 50, 75, 90, 95)


@dataclass
class FlowUsage:
    """Counts of live Flows."""

    total: int = 0
    by_format: dict[str, int] = field(default_factory=dict)
    by_codec: dict[str, int] = field(default_factory=dict)
    by_resolution: dict[str, int] = field(default_factory=dict)
    created_last_30_days: int = 0
    updated_last_30_days: int = 0
    deleted: int = 0
    """Soft-deleted Flows still held (not in the other counts)."""
    by_source: dict[str, int] = field(default_factory=dict)


@dataclass
class StorageUsage:
    """Bytes and Objects held."""

    total_bytes: int = 0
    total_objects: int = 0
    unsized_objects: int = 0
    by_format: dict[str, int] = field(default_factory=dict)
    by_flow: dict[str, int] = field(default_factory=dict)
    by_backend: dict[str, int] = field(default_factory=dict)
    objects_by_flow: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)


@dataclass
class Durations:
    """Segment durations in nanoseconds."""

    count: int = 0
    buckets: dict[str, int] = field(default_factory=dict)
    average_ns: int | None = None
    percentiles_ns: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowSpan:
    """One Flow's extent (None without Segments) and its longest Segment, which
    bounds every window query on its Segments (``store.segments.overlapping``)."""

    id: str
    start_ns: int | None
    end_ns: int | None
    max_segment_ns: int


@dataclass
class Coverage:
    """How much of ``[start_ns, end_ns)`` one Flow's Segments cover."""

    start_ns: int
    end_ns: int
    covered_ns: int
    gaps: list[tuple[int, int]]
    gap_count: int


class AnalyticsStore:
    """Read-only aggregates."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def flow_usage(self, access: Access | None = None) -> FlowUsage:
        """Live Flows (that the caller may read) by format, codec, frame size and
        Source, recent activity, and the soft-deleted ones."""
        readable = _readable(flows.c.id, access)
        alive = flows.c.deleted_ns.is_(None)
        live = alive & readable
        since = now_ns() - 30 * _DAY_NS
        usage = FlowUsage()
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(
                        _count_where(alive),
                        _count_where(alive & (flows.c.created_ns >= since)),
                        _count_where(alive & (flows.c.metadata_updated_ns >= since)),
                        _count_where(flows.c.deleted_ns.is_not(None)),
                    ).where(readable)
                )
            ).one()
            (
                usage.total, usage.created_last_30_days, usage.updated_last_30_days,
                usage.deleted,
            ) = map(int, row)  # fmt: skip
            usage.by_source = await _counts(conn, [flows.c.source_id], live)
            usage.by_format = await _counts(conn, [flows.c.format], live)
            usage.by_codec = await _counts(conn, [flows.c.codec], live, flows.c.codec.is_not(None))
            usage.by_resolution = await _counts(
                conn,
                [flows.c.frame_width, flows.c.frame_height],
                live,
                flows.c.frame_width.is_not(None),
                flows.c.frame_height.is_not(None),
            )
        return usage

    async def storage_usage(self, *, top_flows: int, access: Access | None = None) -> StorageUsage:
        """Objects used by live Segments (of Flows the caller may read) and their
        bytes, by backend, month stored, format and Flow."""
        readable = _readable(segments.c.flow_id, access)
        used = exists().where(segments.c.object_id == objects.c.id, readable)
        usage = StorageUsage()
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(
                        func.count(),
                        _count_where(objects.c.size_bytes.is_(None)),
                    ).where(used)
                )
            ).one()
            usage.total_objects, usage.unsized_objects = int(row[0]), int(row[1])
            # Every controlled copy: the first one, then those on further backends.
            # When the bytes were seen (or else allocated), and when a copy was made.
            first_stored = func.coalesce(objects.c.uploaded_ns, objects.c.created_ns)
            copies = union_all(
                select(
                    objects.c.storage_id, objects.c.size_bytes, first_stored.label("stored_ns")
                ).where(used, objects.c.storage_id.is_not(None)),
                select(
                    object_instances.c.storage_id, objects.c.size_bytes,
                    object_instances.c.created_ns.label("stored_ns"),
                )
                .join(objects, objects.c.id == object_instances.c.object_id)
                .where(used),
            ).subquery()  # fmt: skip
            by_backend = await conn.execute(
                select(copies.c.storage_id, func.coalesce(func.sum(copies.c.size_bytes), 0))
                .group_by(copies.c.storage_id)
            )  # fmt: skip
            usage.by_backend = {str(k): int(v) for k, v in by_backend}
            usage.total_bytes = sum(usage.by_backend.values())
            month = month_of_ns(conn, copies.c.stored_ns).label("month")
            by_month = await conn.execute(
                select(month, func.coalesce(func.sum(copies.c.size_bytes), 0)).group_by(month)
            )
            usage.by_month = {str(k): int(v) for k, v in by_month}
            pairs = (
                select(segments.c.flow_id, segments.c.object_id)
                .where(readable)
                .distinct()
                .subquery()
            )
            sized = objects.c.size_bytes.is_not(None)
            flow_bytes = func.sum(objects.c.size_bytes)
            by_flow = await conn.execute(
                select(pairs.c.flow_id, flow_bytes)
                .join(objects, and_(objects.c.id == pairs.c.object_id, sized))
                .group_by(pairs.c.flow_id)
                .order_by(flow_bytes.desc(), pairs.c.flow_id)
                .limit(top_flows)
            )
            usage.by_flow = {str(k): int(v) for k, v in by_flow}
            used_objects = func.count()
            objects_by_flow = await conn.execute(
                select(pairs.c.flow_id, used_objects)
                .group_by(pairs.c.flow_id)
                .order_by(used_objects.desc(), pairs.c.flow_id)
                .limit(top_flows)
            )
            usage.objects_by_flow = {str(k): int(v) for k, v in objects_by_flow}
            formats = (
                select(flows.c.format, segments.c.object_id)
                .join(flows, flows.c.id == segments.c.flow_id)
                .where(readable)
                .distinct()
                .subquery()
            )
            by_format = await conn.execute(
                select(formats.c.format, func.sum(objects.c.size_bytes))
                .join(objects, and_(objects.c.id == formats.c.object_id, sized))
                .group_by(formats.c.format)
            )  # fmt: skip
            usage.by_format = {str(k): int(v) for k, v in by_format}
        return usage

    async def durations(
        self, flow: FlowSpan | None, window: tuple[int, int], access: Access | None = None
    ) -> Durations:
        """Durations of the live Segments (of one Flow, or all the caller may read)
        overlapping ``window``."""
        where = _overlapping(flow, window)
        if flow is None:
            where.append(_readable(segments.c.flow_id, access))
        duration = (segments.c.end_ns - segments.c.start_ns).label("duration")
        found = Durations()
        async with self._db.read() as conn:
            columns: list[Any] = [func.count(), func.avg(duration)]
            columns += [_count_where(duration >= low * _SECOND_NS) for _, low in DURATION_BUCKETS]
            row = (await conn.execute(select(*columns).where(*where))).one()
            found.count = int(row[0])
            if not found.count:
                found.buckets = {label: 0 for label, _ in DURATION_BUCKETS}
                return found
            found.average_ns = round(float(row[1]))
            at_least = [int(v) for v in row[2:]] + [0]
            found.buckets = {
                label: at_least[i] - at_least[i + 1]
                for i, (label, _) in enumerate(DURATION_BUCKETS)
            }
            for p in PERCENTILES:  # nearest rank
                rank = max(0, -(-p * found.count // 100) - 1)
                value = await conn.scalar(
                    select(duration).where(*where).order_by(duration).offset(rank).limit(1)
                )
                found.percentiles_ns[p] = int(value or 0)
        return found

    async def flow_span(self, flow_id: str, access: Access | None = None) -> FlowSpan:
        """The Flow's extent and longest Segment; NOT_FOUND if unknown (or hidden from
        the caller)."""
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(
                        flows.c.timerange_start_ns, flows.c.timerange_end_ns,
                        flows.c.max_segment_ns,
                    ).where(
                        flows.c.id == flow_id, flows.c.deleted_ns.is_(None),
                        _readable(flows.c.id, access),
                    )
                )
            ).first()  # fmt: skip
        if row is None:
            raise NotFound(f"flow {flow_id} not found", reason=Reason.FLOW_NOT_FOUND)
        return FlowSpan(flow_id, row[0], row[1], row[2])

    async def coverage(self, flow: FlowSpan, window: tuple[int, int], *, max_gaps: int) -> Coverage:
        """What the Flow's Segments cover of ``window`` (finite bounds) and where the
        gaps are: the first ``max_gaps`` of them, and how many there are."""
        lo, hi = window
        where = _overlapping(flow, window)
        low, high = literal(lo, BigInteger), literal(hi, BigInteger)
        start = case((segments.c.start_ns < low, low), else_=segments.c.start_ns)
        end = case((segments.c.end_ns > high, high), else_=segments.c.end_ns)
        async with self._db.read() as conn:
            covered, last_end = (
                await conn.execute(select(func.sum(end - start), func.max(end)).where(*where))
            ).one()
            # A gap ends where a Segment starts after the previous one's end (Segments
            # of a Flow never overlap, so the previous end is the furthest one); the
            # first Segment's previous end is the window's start.
            ordered = select(
                start.label("start"),
                end.label("end"),
                func.lag(end, 1, low).over(order_by=segments.c.start_ns).label("before"),
            ).where(*where).subquery()  # fmt: skip
            gap_rows = ordered.c.start > ordered.c.before
            count = int(await conn.scalar(select(func.count()).where(gap_rows)) or 0)
            listed = await conn.execute(
                select(ordered.c.before, ordered.c.start)
                .where(gap_rows)
                .order_by(ordered.c.start)
                .limit(max_gaps)
            )
            gaps = [(int(a), int(b)) for a, b in listed]
        tail = int(last_end) if last_end is not None else lo
        if tail < hi:  # the window goes on past the last Segment
            count += 1
            if len(gaps) < max_gaps and count - 1 == len(gaps):
                gaps.append((tail, hi))
        return Coverage(lo, hi, int(covered or 0), gaps, count)

    async def hourly(self, flow: FlowSpan, window: tuple[int, int]) -> dict[int, int]:
        """Nanoseconds of ``window`` (finite bounds) covered by the Flow's Segments in
        each hour of the day (UTC: the TAI times less the leap seconds of their time);
        hours with none left out.

        A Segment cut to the window, ``days`` whole days and ``start``/``end`` into
        their days, gives hour ``k`` ``days`` hours, plus ``within(end, k)`` less
        ``within(start, k)``: how much of hour ``k`` of its day lies before it (an hour
        for the hours before its hour, its time into its hour for its own, nothing
        after). Those are linear in the Segments of one start (or end) hour, so the
        database sums them by start and end hour (at most 24 x 24 rows), whatever the
        Flow's length."""
        totals = [0] * 24
        day = literal(_DAY_NS, BigInteger)
        async with self._db.read() as conn:
            for start, end, offset in utc_offset_periods(*window):
                low, high = literal(start, BigInteger), literal(end, BigInteger)
                shift = literal(offset, BigInteger)
                cut_start = case((segments.c.start_ns < low, low), else_=segments.c.start_ns)
                cut_end = case((segments.c.end_ns > high, high), else_=segments.c.end_ns)
                utc_start, utc_end = cut_start - shift, cut_end - shift
                # Time into the day, non-negative before 1970 too (% keeps the sign).
                into_start = (utc_start % day + day) % day
                into_end = (utc_end % day + day) % day
                parts = (
                    select(
                        ((utc_end - into_end - (utc_start - into_start)) // day).label("days"),
                        into_start.label("into_start"),
                        into_end.label("into_end"),
                    )
                    .where(*_overlapping(flow, (start, end)))
                    .subquery()
                )
                start_hour = (parts.c.into_start // _HOUR_NS).label("start_hour")
                end_hour = (parts.c.into_end // _HOUR_NS).label("end_hour")
                rows = await conn.execute(
                    select(
                        start_hour, end_hour, func.count(), func.sum(parts.c.days),
                        func.sum(parts.c.into_start), func.sum(parts.c.into_end),
                    ).group_by(start_hour, end_hour)
                )  # fmt: skip
                for row in rows:
                    _add_hours(totals, *(int(value) for value in row))
        return {k: ns for k, ns in enumerate(totals) if ns}


def _add_hours(
    totals: list[int],
    first: int,
    last: int,
    count: int,
    days: int,
    into_first: int,
    into_last: int,
) -> None:
    """Adds to ``totals`` (nanoseconds per hour of the day) what ``count`` Segments
    starting in hour ``first`` and ending in hour ``last`` of their days cover:
    ``days`` whole days in all, their starts ``into_first`` and ends ``into_last``
    nanoseconds into their days in all."""
    for k in range(24):
        totals[k] += days * _HOUR_NS
    for k in range(last):  # the hours of the day before their ends, whole
        totals[k] += count * _HOUR_NS
    totals[last] += into_last - count * last * _HOUR_NS
    for k in range(first):  # less those before their starts
        totals[k] -= count * _HOUR_NS
    totals[first] -= into_first - count * first * _HOUR_NS


def _readable(flow_id: ColumnElement[Any], access: Access | None) -> ColumnElement[bool]:
    """The Flows the caller of ``access`` may read (all when unrestricted)."""
    if access is None:
        return true()
    return readable_clause(flow_tags, "flow_id", flow_id, access)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """How many rows meet ``condition`` (0, not NULL, when there are none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def _counts(
    conn: AsyncConnection, keys: Sequence[Any], *where: ColumnElement[bool]
) -> dict[str, int]:
    """Rows per distinct value of ``keys`` (joined by "x" when there are several)."""
    rows = await conn.execute(select(*keys, func.count()).where(*where).group_by(*keys))
    return {"x".join(str(v) for v in row[:-1]): int(row[-1]) for row in rows}


def _overlapping(flow: FlowSpan | None, window: tuple[int, int]) -> list[ColumnElement[bool]]:
    """Live Segments (of one Flow, or all) overlapping ``[lo, hi)``; one Flow's by its
    key, bounded by its longest Segment, as listings query them."""
    lo, hi = window
    if flow is not None:
        return overlapping(segments.c, flow.id, Window(lo, hi), flow.max_segment_ns)
    return [segments.c.start_ns < hi, segments.c.end_ns > lo]
