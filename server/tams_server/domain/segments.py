"""Segments: the rules a registration must satisfy, and the overlap check.

A Segment places an Object on its Flow's timeline. Its timerange must be non-empty
and bounded; segments of one Flow never overlap. The check here is exact (half-open
integer nanoseconds, so ``[0:0_10:0)`` and ``[10:0_20:0)`` touch but do not overlap)
and costs O(log n) per segment against the stored neighbours and the batch so far.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from tams_server.domain.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    Reason,
    TamsError,
)
from tams_server.domain.timerange import (
    TimeRange,
    format_timerange,
    parse_timerange,
    parse_timestamp,
    to_bounds,
)

MAX_SEGMENTS_PER_CALL = 10_000


class UncontrolledUrl(NamedTuple):
    """A download URL the service does not control, given at registration (a named
    tuple: one is made for every external Segment registered, at a third of the cost
    of a frozen dataclass)."""

    url: str
    label: str


# A Segment as a listing reads it, and where its Object's bytes are when the listing
# asked for that: the parts named by ``LISTED_SEGMENT_FIELDS``, in that order
# (``store.segments`` selects its columns by these names). ``extra_instances`` 0 means
# the row says where the Object is, all of it; None (not asked, or no such Object) or
# more than 0 (further copies) that the Object must be looked up. The uncontrolled URLs
# come as the driver returns them: JSON text from SQLite, decoded from PostgreSQL.
# The rows are the driver's own (a tuple, an asyncpg Record): a stream reads millions,
# and building an object for each costs a quarter of the server's time per Segment.
# Readers unpack them whole, which the type checker holds to this shape.
ListedSegment = tuple[
    int, int, str, str, str | None, str | None, str | None, int | None, int | None, int | None,
    str | None, str | None, str | None, str | list[dict[str, str]] | None, int | None,
]  # fmt: skip
LISTED_SEGMENT_FIELDS = (
    "start_ns", "end_ns", "timerange", "object_id", "ts_offset", "last_duration",
    "object_timerange", "sample_offset", "sample_count", "key_frame_count", "init_object_id",
    "storage_id", "storage_key", "uncontrolled_urls", "extra_instances",
)  # fmt: skip


class Deletion(NamedTuple):
    """When and by whom a soft-deleted Segment was deleted."""

    deleted_ns: int
    deleted_by: str | None


# SegmentPost and Segment are made for every Segment of every registration: plain
# slotted dataclasses build in a third of the time of frozen ones. Treat them as
# immutable all the same.
@dataclass(slots=True)
class SegmentPost:
    """A Segment as a client asks to register it (TAMS `flow-segment-post.json`)."""

    object_id: str
    timerange: str
    ts_offset: str | None = None
    last_duration: str | None = None
    object_timerange: str | None = None
    sample_offset: int | None = None
    sample_count: int | None = None
    key_frame_count: int | None = None
    init_object_id: str | None = None
    get_urls: tuple[UncontrolledUrl, ...] = ()


@dataclass(slots=True)
class Segment:
    """A stored Segment: its post, with the timerange as half-open nanoseconds."""

    post: SegmentPost
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """A Segment that was not stored, and why."""

    index: int
    object_id: str
    timerange: str
    error: TamsError


def prepare(post: SegmentPost, *, path: str) -> Segment:
    """Check one post; INVALID_ARGUMENT names each bad field as ``{path}.{field}``."""
    violations: list[FieldViolation] = []
    if not post.object_id:
        violations.append(FieldViolation(f"{path}.object_id", "is required"))
    bounds = _bounds(post.timerange, f"{path}.timerange", violations)
    has_extras = (
        post.ts_offset is not None
        or post.last_duration is not None
        or post.object_timerange is not None
        or post.sample_offset is not None
        or post.sample_count is not None
        or post.key_frame_count is not None
        or post.get_urls
    )
    if has_extras:  # most posts carry none of these: skip the checks for them
        _check_extras(post, path, violations)
    if violations or bounds is None:
        first = violations[0]
        missing = first.description.startswith("is required")
        raise InvalidArgument(
            f"{first.field}: {first.description}",
            reason=Reason.MISSING_FIELD if missing else Reason.INVALID_ARGUMENT,
            field_violations=violations,
        )
    return Segment(post, bounds[0], bounds[1])


def _check_extras(post: SegmentPost, path: str, violations: list[FieldViolation]) -> None:
    def bad(field: str, description: str) -> None:
        violations.append(FieldViolation(f"{path}.{field}", description))

    if _plain_urls_only(post):  # the usual external Segment: one good URL and no more
        return
    for field in ("ts_offset", "last_duration"):
        value = getattr(post, field)
        if value is not None:
            try:
                ns = parse_timestamp(value, f"{path}.{field}")
            except InvalidArgument as error:
                violations.extend(error.field_violations)
            else:
                if field == "last_duration" and ns < 0:
                    bad(field, f"must not be negative, got {value}")
    if post.object_timerange is not None:
        try:
            parsed = parse_timerange(post.object_timerange, f"{path}.object_timerange")
        except InvalidArgument as error:
            violations.extend(error.field_violations)
        else:
            if parsed.is_empty:
                bad("object_timerange", "must not be empty")
            else:
                try:
                    to_bounds(parsed, f"{path}.object_timerange")
                except InvalidArgument as error:
                    violations.extend(error.field_violations)
    for field in ("sample_offset", "sample_count", "key_frame_count"):
        value = getattr(post, field)
        if value is not None and value < 0:
            bad(field, f"must be >= 0, got {value}")
    labels: set[str] = set()
    for i, url in enumerate(post.get_urls):
        if not url.url:
            bad(f"get_urls[{i}].url", "is required")
        if not url.label:
            bad(f"get_urls[{i}].label", "is required for an uncontrolled URL")
        elif url.label in labels:
            bad(f"get_urls[{i}].label", f"repeats the label {url.label!r}")
        labels.add(url.label)


def _plain_urls_only(post: SegmentPost) -> bool:
    """Whether a post's only extra is one uncontrolled URL with its URL and label."""
    urls = post.get_urls
    return (
        len(urls) == 1
        and bool(urls[0].url and urls[0].label)
        and post.ts_offset is None
        and post.last_duration is None
        and post.object_timerange is None
        and post.sample_offset is None
        and post.sample_count is None
        and post.key_frame_count is None
    )


def _bounds(text: str, field: str, violations: list[FieldViolation]) -> tuple[int, int] | None:
    """The storage bounds of a Segment's timerange: non-empty and bounded."""
    if not text:
        violations.append(FieldViolation(field, "is required"))
        return None
    try:
        timerange = parse_timerange(text, field)
    except InvalidArgument as error:
        violations.extend(error.field_violations)
        return None
    if timerange.is_empty:
        violations.append(FieldViolation(field, f"{text!r} is empty; a Segment needs samples"))
    elif timerange.start is None or timerange.end is None:
        violations.append(FieldViolation(field, f"{text!r} is unbounded; give both ends"))
    else:
        try:
            return to_bounds(timerange, field)
        except InvalidArgument as error:
            violations.extend(error.field_violations)
    return None


def stored_timerange(post: SegmentPost, segment_start: int, segment_end: int) -> str:
    """The timerange text kept for a Segment: the client's own TAMS text, or the
    canonical form when it came as ISO 8601."""
    if "T" in post.timerange:
        return format_timerange(TimeRange(segment_start, segment_end))
    return post.timerange


class Timeline:
    """The Segments of one Flow within a window, for overlap checks: the stored ones
    and those accepted so far in this registration (never overlapping each other)."""

    def __init__(self, stored: Iterable[tuple[int, int, str]]) -> None:
        self._starts: list[int] = []
        self._spans: list[tuple[int, int, str]] = []
        for start, end, text in sorted(stored):
            self._starts.append(start)
            self._spans.append((start, end, text))

    def conflict(self, start: int, end: int) -> str | None:
        """The timerange of a Segment that ``[start, end)`` overlaps, if any."""
        i = bisect_right(self._starts, start) - 1
        if i >= 0 and self._spans[i][1] > start:
            return self._spans[i][2]
        if i + 1 < len(self._spans) and self._spans[i + 1][0] < end:
            return self._spans[i + 1][2]
        return None

    def add(self, start: int, end: int, text: str) -> None:
        """Take a Segment in (the caller checked it does not overlap)."""
        i = bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._spans.insert(i, (start, end, text))


def same_segment(post: SegmentPost, stored: Sequence[object]) -> bool:
    """Whether ``post`` repeats a stored Segment at the same place: ``stored`` holds
    its object_id, ts_offset, last_duration, object_timerange, sample_offset,
    sample_count, key_frame_count and init_object_id, in that order. A post without
    ``init_object_id`` matches any (a reuse of an Object inherits the Object's)."""
    object_id, ts_offset, last_duration, object_timerange, *counts, init = stored
    return (
        post.object_id == object_id
        and post.ts_offset == ts_offset
        and post.last_duration == last_duration
        and post.object_timerange == object_timerange
        and [post.sample_offset, post.sample_count, post.key_frame_count] == counts
        and (post.init_object_id is None or post.init_object_id == init)
    )


def overlap_error(segment: Segment, other: str) -> FailedPrecondition:
    """The error of a Segment overlapping another one of its Flow."""
    return FailedPrecondition(
        f"timerange {segment.post.timerange} overlaps the segment at {other}",
        reason=Reason.SEGMENT_OVERLAP,
        metadata={"timerange": segment.post.timerange, "conflictingTimerange": other},
    )


def windows_of(segments: Sequence[Segment], *, gap: int) -> list[tuple[int, int]]:
    """Half-open windows covering ``segments``, merged when less than ``gap`` apart:
    an append is one small window, and a batch scattered along a long Flow does not
    turn into one window spanning everything in between."""
    windows: list[list[int]] = []
    for start, end in sorted((s.start_ns, s.end_ns) for s in segments):
        if windows and start <= windows[-1][1] + gap:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    return [(lo, hi) for lo, hi in windows]


def window_of(segments: Sequence[Segment]) -> tuple[int, int]:
    """The smallest half-open range covering ``segments`` (not empty)."""
    return min(s.start_ns for s in segments), max(s.end_ns for s in segments)
