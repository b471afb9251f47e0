"""TAMS time for the command line: TAI timestamps ``seconds:nanoseconds`` held as
integer nanoseconds, half-open timeranges ``[start_end)``, and media timestamps
(``pts`` in a stream's time base) mapped onto nanoseconds exactly."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from fractions import Fraction

NS = 1_000_000_000
# TAI was 37 s ahead of UTC at the last leap second (2017-01-01) and still is.
TAI_MINUS_UTC_S = 37

_TIMESTAMP = re.compile(r"^([+-]?)(\d+)(?::(\d{1,9}))?$")
_RANGE = re.compile(r"^([\[(]?)([^_\[\]()]*)(?:_([^_\[\]()]*))?([\])]?)$")


def parse_timestamp(text: str) -> int:
    """Nanoseconds of a TAMS timestamp (``10:500000000``, ``-1:0``, ``10``)."""
    match = _TIMESTAMP.match(text.strip())
    if match is None:
        raise ValueError(f"not a TAMS timestamp: {text!r} (expected SECONDS:NANOSECONDS)")
    sign, seconds, nanos = match.groups()
    value = int(seconds) * NS + int(nanos or "0")  # a count of nanoseconds, not a fraction
    return -value if sign == "-" else value


def format_timestamp(ns: int) -> str:
    """The TAMS timestamp of ``ns`` nanoseconds."""
    sign = "-" if ns < 0 else ""
    seconds, nanos = divmod(abs(ns), NS)
    return f"{sign}{seconds}:{nanos}"


def now_tai() -> int:
    """The current TAI time in nanoseconds."""
    return time.time_ns() + TAI_MINUS_UTC_S * NS


def parse_start(text: str) -> int:
    """``--start``: ``now`` or a TAI timestamp."""
    return now_tai() if text.strip().lower() == "now" else parse_timestamp(text)


@dataclass(frozen=True)
class TimeRange:
    """A half-open range ``[start, end)`` of nanoseconds; None is an open end."""

    start: int | None
    end: int | None

    def __str__(self) -> str:
        start = "" if self.start is None else format_timestamp(self.start)
        end = "" if self.end is None else format_timestamp(self.end)
        return f"[{start}_{end})"

    def duration(self) -> int | None:
        """Length in nanoseconds; None when an end is open."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    def overlaps(self, other: TimeRange) -> bool:
        """Whether the two ranges share an instant."""
        low = _max_open(self.start, other.start)
        high = _min_open(self.end, other.end)
        return low is None or high is None or low < high

    def intersection(self, other: TimeRange) -> TimeRange:
        """The instants in both (it may be empty: see ``empty``)."""
        return TimeRange(_max_open(self.start, other.start), _min_open(self.end, other.end))

    def bounds(self) -> tuple[int, int]:
        """``(start, end)`` of a range with both ends; ValueError for an open one."""
        if self.start is None or self.end is None:
            raise ValueError(f"the range {self} has an open end")
        return self.start, self.end

    @property
    def empty(self) -> bool:
        """Whether the range holds no instant."""
        return self.start is not None and self.end is not None and self.end <= self.start


def parse_timerange(text: str) -> TimeRange:
    """A TAMS timerange: ``[a_b)``, ``(a_b]``, ``[a]``, ``_``, ``[a_``; inclusive or
    exclusive ends become half-open nanosecond bounds."""
    match = _RANGE.match(text.strip())
    if match is None:
        raise ValueError(f"not a TAMS timerange: {text!r} (e.g. [10:0_20:0))")
    opening, first, second, closing = match.groups()
    if second is None:  # a single instant: [a]
        if not first:
            raise ValueError(f"not a TAMS timerange: {text!r}")
        at = parse_timestamp(first)
        return TimeRange(at, at + 1)
    start = parse_timestamp(first) if first else None
    end = parse_timestamp(second) if second else None
    if start is not None and opening == "(":
        start += 1
    if end is not None and closing == "]":
        end += 1
    return TimeRange(start, end)


def to_ns(value: int, time_base: Fraction) -> int:
    """``value`` ticks of ``time_base`` in nanoseconds, rounded to the nearest."""
    return round(value * time_base * NS)


def from_ns(ns: int, time_base: Fraction) -> int:
    """``ns`` nanoseconds in ticks of ``time_base``, rounded to the nearest."""
    return round(Fraction(ns, NS) / time_base)


def _max_open(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _min_open(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else min(a, b)
