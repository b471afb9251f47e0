"""TAMS timestamps and timeranges as integer nanoseconds (design decision 2).

A timestamp is ``"{sign}{seconds}:{nanoseconds}"``; the nanoseconds are an integer
count (``1:5`` is 1 s + 5 ns) and the sign covers the whole value (``-1:500000000`` is
-1.5 s). A timerange is ``{[|(}{start}_{end}{]|)}`` with open ends, ``_`` for all time
and ``()`` for never. Values are kept half-open, ``[start, end)``, so clusivity is
decided once, at parsing: an exclusive start becomes ``start + 1``, an inclusive end
``end + 1``. Parsing follows BBC's reference library (``mediatimestamp``) where the
spec's regex is loose: a missing bracket is inclusive, a lone timestamp is an instant
(its brackets ignored), and text with neither ``_`` nor a timestamp is never.

ISO 8601 / RFC 3339 UTC instants are accepted in place of timestamps, as the seed usage
guide writes them (``[2024-12-20T10:00:00Z_2024-12-20T10:00:10Z)``, or with ``:`` as the
separator), and converted to TAI with the leap-second table (``tams_server.tai``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.tai import ISO_INSTANT, iso_to_tai_ns

# The UTC/TAI conversions, from the pure module the gateway shares (re-exported).
from tams_server.tai import NS_PER_S as NS_PER_S
from tams_server.tai import format_timestamp as format_timestamp
from tams_server.tai import tai_ns_to_utc_datetime as tai_ns_to_utc_datetime
from tams_server.tai import tai_offset_s as tai_offset_s
from tams_server.tai import utc_datetime_to_tai_ns as utc_datetime_to_tai_ns

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_TS = r"-?(?:0|[1-9][0-9]*):(?:0|[1-9][0-9]{0,8})"
_TIMESTAMP = re.compile(r"(-)?(0|[1-9][0-9]*):(0|[1-9][0-9]{0,8})")
# One match gives every part: (opener, start sign, s, ns, "_", end sign, s, ns, closer).
_TIMERANGE = re.compile(
    r"([\[(])?(?:(-)?(0|[1-9][0-9]*):(0|[1-9][0-9]{0,8}))?"
    r"(?:(_)(?:(-)?(0|[1-9][0-9]*):(0|[1-9][0-9]{0,8}))?)?([\])])?"
)
_ISO = ISO_INSTANT
_ISO_TIMERANGE = re.compile(rf"([\[(])?({_ISO}|{_TS})?(?:([_:])({_ISO}|{_TS})?)?([\])])?")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open range ``[start, end)`` of integer nanoseconds; ``None`` is an open
    end. Build with ``TimeRange.of`` so every empty range is the one ``NEVER``."""

    start: int | None
    end: int | None

    @staticmethod
    def of(start: int | None, end: int | None) -> TimeRange:
        """The range ``[start, end)``, or NEVER when that holds nothing."""
        if start is not None and end is not None and end <= start:
            return NEVER
        return TimeRange(start, end)

    @property
    def is_empty(self) -> bool:
        """True for never."""
        return self.start is not None and self.end is not None and self.end <= self.start

    @property
    def duration_ns(self) -> int | None:
        """Length in nanoseconds; None when unbounded."""
        if self.is_empty:
            return 0
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    def contains_ns(self, ns: int) -> bool:
        """Whether the instant ``ns`` lies inside."""
        if self.is_empty:
            return False
        return (self.start is None or self.start <= ns) and (self.end is None or ns < self.end)

    def overlaps(self, other: TimeRange) -> bool:
        """Whether the two share at least one nanosecond."""
        return not self.intersection(other).is_empty

    def intersection(self, other: TimeRange) -> TimeRange:
        """The nanoseconds in both."""
        if self.is_empty or other.is_empty:
            return NEVER
        return TimeRange.of(
            _later_start(self.start, other.start), _earlier_end(self.end, other.end)
        )

    def contains_range(self, other: TimeRange) -> bool:
        """Whether every nanosecond of ``other`` lies inside (never is inside all)."""
        return other.is_empty or self.intersection(other) == other

    def extent(self, other: TimeRange) -> TimeRange:
        """The smallest range covering both."""
        if self.is_empty:
            return other
        if other.is_empty:
            return self
        start = None if self.start is None or other.start is None else min(self.start, other.start)
        end = None if self.end is None or other.end is None else max(self.end, other.end)
        return TimeRange(start, end)

    def union(self, other: TimeRange) -> list[TimeRange]:
        """The nanoseconds in either, as one range or two disjoint ones in order."""
        if self.is_empty or other.is_empty:
            return [r for r in (self, other) if not r.is_empty]
        first, second = sorted((self, other), key=_start_key)
        if first.end is None or second.start is None or second.start <= first.end:
            return [first.extent(second)]
        return [first, second]

    def subtract(self, other: TimeRange) -> list[TimeRange]:
        """The nanoseconds of this range not in ``other``: 0, 1 or 2 ranges, in order."""
        cut = self.intersection(other)
        if cut.is_empty:
            return [] if self.is_empty else [self]
        pieces = [TimeRange.of(self.start, cut.start), TimeRange.of(cut.end, self.end)]
        if cut.start is None:
            pieces[0] = NEVER
        if cut.end is None:
            pieces[1] = NEVER
        return [piece for piece in pieces if not piece.is_empty]

    def __str__(self) -> str:
        return format_timerange(self)


ETERNITY: Final = TimeRange(None, None)
NEVER: Final = TimeRange(0, 0)


def _later_start(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _earlier_end(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _start_key(tr: TimeRange) -> float | int:
    return float("-inf") if tr.start is None else tr.start


# Longer than any timerange whose timestamps int64 nanoseconds can hold, written out;
# longer text is refused before any number is read (Python refuses to make ints of
# more than 4300 digits, with an error that is no INVALID_ARGUMENT).
MAX_TEXT = 128


def _too_long(text: str, field: str) -> InvalidArgument:
    return InvalidArgument.for_field(
        field, f"is {len(text)} characters long; at most {MAX_TEXT}",
        reason=Reason.INVALID_TIMERANGE,
    )  # fmt: skip


def parse_timestamp(text: str, field: str = "timestamp") -> int:
    """Nanoseconds of a TAMS timestamp such as ``-1:500000000``."""
    if len(text) > MAX_TEXT:
        raise _too_long(text, field)
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise InvalidArgument.for_field(
            field, f"{text!r} is not a TAMS timestamp like 10:0 or -1:500000000",
            reason=Reason.INVALID_TIMERANGE,
        )  # fmt: skip
    sign, seconds, nanoseconds = match.groups()
    value = int(seconds) * NS_PER_S + int(nanoseconds)
    return -value if sign else value


def parse_timerange(text: str, field: str = "timerange") -> TimeRange:
    """A TimeRange from TAMS text (or ISO 8601 instants); INVALID_ARGUMENT naming
    ``field`` when the text is neither."""
    if len(text) > MAX_TEXT:
        raise _too_long(text, field)
    match = _TIMERANGE.fullmatch(text)
    if match is not None:  # the common case, parsed from one match (a hot path)
        opener, s_neg, s_sec, s_ns, separator, e_neg, e_sec, e_ns, closer = match.groups()
        start_ns = end_ns = None
        if s_sec is not None:
            start_ns = int(s_sec) * NS_PER_S + int(s_ns)
            if s_neg:
                start_ns = -start_ns
        if e_sec is not None:
            end_ns = int(e_sec) * NS_PER_S + int(e_ns)
            if e_neg:
                end_ns = -end_ns
    else:
        match = _ISO_TIMERANGE.fullmatch(text)
        if match is None or (match.group(3) == ":" and not _both_iso(match)):
            raise InvalidArgument.for_field(
                field,
                f"{text!r} is not a TAMS timerange such as [10:0_20:0), _ or ()",
                reason=Reason.INVALID_TIMERANGE,
            )
        opener, start, separator, end, closer = match.groups()
        start_ns = None if start is None else _instant_ns(start, field)
        end_ns = None if end is None else _instant_ns(end, field)
    if separator is None:
        if start_ns is None:
            return NEVER  # "", "()", "[]", "[" ...: no timestamp and no "_"
        return TimeRange(start_ns, start_ns + 1)  # a lone timestamp is an instant
    if start_ns is not None and opener == "(":
        start_ns += 1
    if end_ns is not None and closer != ")":
        end_ns += 1
    return TimeRange.of(start_ns, end_ns)


def _both_iso(match: re.Match[str]) -> bool:
    return all(part is not None and "T" in part for part in (match.group(2), match.group(4)))


def _instant_ns(text: str, field: str) -> int:
    return parse_timestamp(text) if "T" not in text else _iso_to_tai_ns(text, field)


def _iso_to_tai_ns(text: str, field: str) -> int:
    try:
        return iso_to_tai_ns(text)
    except ValueError:
        raise InvalidArgument.for_field(
            field, f"{text!r} is not a valid date and time", reason=Reason.INVALID_TIMERANGE
        ) from None


def format_timerange(tr: TimeRange) -> str:
    """The canonical text: ``()``, ``_``, ``[s]`` for an instant, else ``[s_e)`` with
    open ends left out (``_e)``, ``[s_``)."""
    if tr.is_empty:
        return "()"
    if tr.start is None:
        return "_" if tr.end is None else f"_{format_timestamp(tr.end)})"
    if tr.end is None:
        return f"[{format_timestamp(tr.start)}_"
    if tr.end == tr.start + 1:
        return f"[{format_timestamp(tr.start)}]"
    return f"[{format_timestamp(tr.start)}_{format_timestamp(tr.end)})"


def to_bounds(tr: TimeRange, field: str = "timerange") -> tuple[int, int]:
    """Storage bounds: half-open int64 nanoseconds, open ends as INT64_MIN/INT64_MAX
    (so those two values are reserved). A finite end that int64 cannot hold (beyond
    about the year 2262) is INVALID_ARGUMENT."""
    for value in (tr.start, tr.end):
        if value is not None and not INT64_MIN < value < INT64_MAX:
            raise InvalidArgument.for_field(
                field,
                f"{format_timerange(tr)} lies beyond the storable range (int64 nanoseconds)",
                reason=Reason.INVALID_TIMERANGE,
            )
    return (
        INT64_MIN if tr.start is None else tr.start,
        INT64_MAX if tr.end is None else tr.end,
    )


def from_bounds(start: int, end: int) -> TimeRange:
    """The TimeRange of storage bounds."""
    return TimeRange.of(None if start == INT64_MIN else start, None if end == INT64_MAX else end)
