"""UTC and TAI: the leap-second table, and ISO 8601 instants as TAI nanoseconds.

Pure (the standard library only) and below every layer, so that the two places that
read ISO 8601 instants convert them the same way: the domain, parsing timeranges
(``domain.timerange``), and the gateway's usage-guide dialect, which writes the guide's
ISO timeranges in request bodies as the TAMS timestamps the spec's checks take (the
gateway may not import the domain).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from typing import Final

NS_PER_S: Final = 1_000_000_000
# An ISO 8601 / RFC 3339 instant with its zone (``2024-12-20T10:00:00Z``,
# ``...T10:00:00.5+01:00``); ``:60`` is the leap second itself.
ISO_INSTANT: Final = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})"
_ISO_PARTS = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)

# TAI - UTC in seconds from each UTC date on (IERS Bulletin C; the same table as the
# IANA/IERS leap-seconds.list). Before 1972 the offset is taken as 10 s.
_LEAP_TABLE: Final = (
    ((1972, 1, 1), 10), ((1972, 7, 1), 11), ((1973, 1, 1), 12), ((1974, 1, 1), 13),
    ((1975, 1, 1), 14), ((1976, 1, 1), 15), ((1977, 1, 1), 16), ((1978, 1, 1), 17),
    ((1979, 1, 1), 18), ((1980, 1, 1), 19), ((1981, 7, 1), 20), ((1982, 7, 1), 21),
    ((1983, 7, 1), 22), ((1985, 7, 1), 23), ((1988, 1, 1), 24), ((1990, 1, 1), 25),
    ((1991, 1, 1), 26), ((1992, 7, 1), 27), ((1993, 7, 1), 28), ((1994, 7, 1), 29),
    ((1996, 1, 1), 30), ((1997, 7, 1), 31), ((1999, 1, 1), 32), ((2006, 1, 1), 33),
    ((2009, 1, 1), 34), ((2012, 7, 1), 35), ((2015, 7, 1), 36), ((2017, 1, 1), 37),
)  # fmt: skip
# (UTC Unix seconds, TAI - UTC) from each change on, newest first.
_LEAPS: Final = tuple(
    (calendar.timegm((y, m, d, 0, 0, 0)), offset) for (y, m, d), offset in reversed(_LEAP_TABLE)
)


def tai_offset_s(utc_unix_s: int) -> int:
    """TAI - UTC in seconds at a UTC instant (10 before 1972)."""
    for since, offset in _LEAPS:
        if utc_unix_s >= since:
            return offset
    return 10


def utc_offset_periods(start_ns: int, end_ns: int) -> list[tuple[int, int, int]]:
    """``[start_ns, end_ns)`` (TAI nanoseconds) cut where TAI - UTC changes:
    ``(start, end, offset_ns)`` for each part, in order; a TAI time less its part's
    offset is the UTC time (Unix nanoseconds). Empty for an empty range."""
    parts: list[tuple[int, int, int]] = []
    offset = 10 * NS_PER_S
    # TAI times from which each offset holds, oldest first (as tai_ns_to_utc_datetime).
    changes = [((since + off) * NS_PER_S, off * NS_PER_S) for since, off in reversed(_LEAPS)]
    cursor = start_ns
    for change, new_offset in changes:
        if cursor < change < end_ns and new_offset != offset:
            parts.append((cursor, change, offset))
            cursor = change
        if change <= cursor:
            offset = new_offset
    if cursor < end_ns:
        parts.append((cursor, end_ns, offset))
    return parts


def utc_datetime_to_tai_ns(moment: datetime) -> int:
    """TAI nanoseconds since 1970-01-01 of an aware UTC (or offset) datetime."""
    utc = moment.astimezone(UTC)
    unix_s = calendar.timegm(utc.timetuple())
    return (unix_s + tai_offset_s(unix_s)) * NS_PER_S + utc.microsecond * 1000


def tai_ns_to_utc_datetime(tai_ns: int) -> datetime:
    """The UTC datetime of TAI nanoseconds (microsecond precision; a leap second
    itself reads as the second before it)."""
    tai_s = tai_ns // NS_PER_S
    offset = 10
    for since, candidate in _LEAPS:
        if tai_s - candidate >= since:
            offset = candidate
            break
    micros = (tai_ns - offset * NS_PER_S) // 1000
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def iso_to_tai_ns(text: str) -> int:
    """TAI nanoseconds of an ISO 8601 instant (``ISO_INSTANT``), to the nanosecond;
    ValueError for other text or a date and time that does not exist."""
    parts = _ISO_PARTS.fullmatch(text)
    if parts is None:
        raise ValueError(f"{text!r} is not an ISO 8601 instant")
    minute, second, fraction, zone = parts.groups()
    leap = second == "60"  # 23:59:60, the leap second itself
    moment = datetime.fromisoformat(f"{minute}:{'59' if leap else second}{zone}")
    ns = (fraction or "").ljust(9, "0")
    return utc_datetime_to_tai_ns(moment) + int(ns) + (NS_PER_S if leap else 0)


def format_timestamp(ns: int) -> str:
    """The canonical TAMS text of ``ns`` nanoseconds (``seconds:nanoseconds``)."""
    seconds, nanoseconds = divmod(abs(ns), NS_PER_S)
    return f"{'-' if ns < 0 else ''}{seconds}:{nanoseconds}"
