"""The timeranges the server writes (canonical TAMS text), read as TAI nanoseconds, and
the current time on the TAI clock. The gateway reads only the server's own output
here; what clients send goes to the server to parse."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tams_server.tai import NS_PER_S, utc_datetime_to_tai_ns

_TIMESTAMP = r"(-?)(\d+):(\d+)"
_CANONICAL = re.compile(rf"\[{_TIMESTAMP}(?:_{_TIMESTAMP}\)|\])")


def _ns(sign: str, seconds: str, nanoseconds: str) -> int:
    value = int(seconds) * NS_PER_S + int(nanoseconds)
    return -value if sign else value


def bounds(timerange: str) -> tuple[int, int] | None:
    """``[start, end)`` in nanoseconds of a finite canonical timerange (``[s_e)``, or
    ``[s]`` for an instant); None for one open at either end, or empty."""
    match = _CANONICAL.fullmatch(timerange)
    if match is None:
        return None
    start = _ns(*match.group(1, 2, 3))
    if match.group(5) is None:
        return start, start + 1
    return start, _ns(*match.group(4, 5, 6))


def end_of(timerange: str) -> int | None:
    """The exclusive end of a finite canonical timerange, if it has one."""
    found = bounds(timerange)
    return None if found is None else found[1]


def now_tai_ns() -> int:
    """Now, on the TAI clock the Flows' timelines use."""
    return utc_datetime_to_tai_ns(datetime.now(UTC))
