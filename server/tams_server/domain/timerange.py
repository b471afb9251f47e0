# TEMPORARY stand-in written by the lead to run the server tests; the timerange helper
# replaces this whole file with the real module.
from __future__ import annotations

import re
from dataclasses import dataclass

from tams_server.domain.errors import INVALID_TIMERANGE, InvalidArgument

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_TS = r"(-?(?:0|[1-9][0-9]*):(?:0|[1-9][0-9]{0,8}))"
_RE = re.compile(rf"(\[|\()?{_TS}?(_{_TS}?)?(\]|\))?")


@dataclass(frozen=True)
class TimeRange:
    start: int | None
    end: int | None
    empty: bool = False

    @property
    def is_empty(self) -> bool:
        return self.empty


ETERNITY = TimeRange(None, None)
NEVER = TimeRange(0, 0, True)


def _ns(text: str) -> int:
    neg = text.startswith("-")
    s, n = text.lstrip("-").split(":")
    v = int(s) * 1_000_000_000 + int(n)
    return -v if neg else v


def parse_timerange(text: str, field: str = "timerange") -> TimeRange:
    m = _RE.fullmatch(text)
    if not m:
        raise InvalidArgument.for_field(
            field, f"{text!r} is not a timerange", reason=INVALID_TIMERANGE
        )
    open_, a, sep, b, close = m.groups()
    if sep is None and a is None:
        return NEVER
    start = _ns(a) + (1 if open_ == "(" else 0) if a else None
    if sep is None:
        b = a
    end = (_ns(b) + (0 if close == ")" else 1)) if b else None
    if start is not None and end is not None and end <= start:
        return NEVER
    return TimeRange(start, end)


def to_bounds(tr: TimeRange) -> tuple[int, int]:
    return (INT64_MIN if tr.start is None else tr.start, INT64_MAX if tr.end is None else tr.end)


def from_bounds(start: int, end: int) -> TimeRange:
    return TimeRange(None if start == INT64_MIN else start, None if end == INT64_MAX else end)


def format_timerange(tr: TimeRange) -> str:
    def f(ns: int) -> str:
        sign = "-" if ns < 0 else ""
        s, n = divmod(abs(ns), 1_000_000_000)
        return f"{sign}{s}:{n}"

    if tr.empty:
        return "()"
    return (
        f"[{f(tr.start) if tr.start is not None else ''}_{f(tr.end) if tr.end is not None else ''})"
    )
