"""The TAMS timestamp and timerange grammar, ISO 8601 input, and the algebra."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tams_server.domain.errors import InvalidArgument
from tams_server.domain.timerange import (
    ETERNITY,
    INT64_MAX,
    INT64_MIN,
    NEVER,
    NS_PER_S,
    TimeRange,
    format_timerange,
    format_timestamp,
    from_bounds,
    parse_timerange,
    parse_timestamp,
    tai_ns_to_utc_datetime,
    to_bounds,
    utc_datetime_to_tai_ns,
)

S = NS_PER_S


@pytest.mark.parametrize(
    ("text", "ns"),
    [("0:0", 0), ("1:5", S + 5), ("1:40000000", S + 40_000_000), ("-1:500000000", -S - S // 2),
     ("-0:5", -5), ("123456789012:999999999", 123456789012 * S + 999_999_999)],
)  # fmt: skip
def test_timestamps(text: str, ns: int) -> None:
    assert parse_timestamp(text) == ns
    assert format_timestamp(ns) == text


@pytest.mark.parametrize("text", ["1:040000000", "01:0", "1.5", "1:1000000000", ":5", "1:", "+1:0"])
def test_bad_timestamps(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_timestamp(text, field="ts_offset")
    assert caught.value.reason == "INVALID_TIMERANGE"
    assert [v.field for v in caught.value.field_violations] == ["ts_offset"]
    assert repr(text) in caught.value.message


@pytest.mark.parametrize(
    ("text", "start", "end", "canonical"),
    [
        ("[0:0_10:0)", 0, 10 * S, "[0:0_10:0)"),
        ("[0:0_10:0]", 0, 10 * S + 1, "[0:0_10:1)"),
        ("(0:0_10:0)", 1, 10 * S, "[0:1_10:0)"),
        ("0:0_10:0", 0, 10 * S + 1, "[0:0_10:1)"),  # a missing bracket is inclusive
        ("[0:0_10:0", 0, 10 * S + 1, "[0:0_10:1)"),
        ("_10:0)", None, 10 * S, "_10:0)"),
        ("(_10:0)", None, 10 * S, "_10:0)"),  # markers beside open ends are ignored
        ("[5:0_", 5 * S, None, "[5:0_"),
        ("(5:0_)", 5 * S + 1, None, "[5:1_"),
        ("_", None, None, "_"),
        ("(_)", None, None, "_"),
        ("[10:0]", 10 * S, 10 * S + 1, "[10:0]"),
        ("10:0", 10 * S, 10 * S + 1, "[10:0]"),  # a lone timestamp is an instant
        ("(10:0)", 10 * S, 10 * S + 1, "[10:0]"),  # ... whatever its brackets
        ("[10:0_10:0]", 10 * S, 10 * S + 1, "[10:0]"),
        ("[-1:500000000_0:0)", -3 * S // 2, 0, "[-1:500000000_0:0)"),
    ],
)
def test_timeranges(text: str, start: int | None, end: int | None, canonical: str) -> None:
    tr = parse_timerange(text)
    assert (tr.start, tr.end) == (start, end)
    assert format_timerange(tr) == canonical
    assert parse_timerange(canonical) == tr


@pytest.mark.parametrize(
    "text", ["()", "", "[]", "[", ")", "[10:0_10:0)", "(10:0_10:0]", "[5:0_3:0)"]
)
def test_never(text: str) -> None:
    tr = parse_timerange(text)
    assert tr == NEVER
    assert tr.is_empty
    assert format_timerange(tr) == "()"


@pytest.mark.parametrize(
    "text", ["1.5", "[0:0_10:0)x", "01:0", "[0:0__1:0)", "{0:0_1:0}", "[0:0,1:0)", "[a_b)", " _"]
)
def test_bad_timeranges(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_timerange(text, field="filter.timerange")
    assert caught.value.reason == "INVALID_TIMERANGE"
    assert [v.field for v in caught.value.field_violations] == ["filter.timerange"]


def test_iso_8601_input_becomes_tai() -> None:
    expected = parse_timerange("[1734688837:0_1734688847:0)")
    assert parse_timerange("[2024-12-20T10:00:00Z_2024-12-20T10:00:10Z)") == expected
    assert parse_timerange("[2024-12-20T10:00:00Z:2024-12-20T10:00:10Z)") == expected
    assert parse_timerange("[2024-12-20T11:00:00+01:00_2024-12-20T10:00:10Z)") == expected
    fraction = parse_timerange("[2024-12-20T10:00:00.5Z_")
    assert fraction.start == 1734688837 * S + S // 2
    mixed = parse_timerange("[2024-12-20T10:00:00Z_1734688847:0)")
    assert mixed == expected
    with pytest.raises(InvalidArgument):
        parse_timerange("[2024-02-30T10:00:00Z_")


@pytest.mark.parametrize(
    ("utc", "offset"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 10),
        (datetime(1972, 6, 30, 23, 59, 59, tzinfo=UTC), 10),
        (datetime(1972, 7, 1, tzinfo=UTC), 11),
        (datetime(1999, 1, 1, tzinfo=UTC), 32),
        (datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC), 36),
        (datetime(2017, 1, 1, tzinfo=UTC), 37),
        (datetime(2026, 11, 23, tzinfo=UTC), 37),
    ],
)
def test_leap_seconds(utc: datetime, offset: int) -> None:
    tai = utc_datetime_to_tai_ns(utc)
    assert tai == (int(utc.timestamp()) + offset) * S
    assert tai_ns_to_utc_datetime(tai) == utc


def test_the_leap_second_itself() -> None:
    before = parse_timerange("[2016-12-31T23:59:59Z]").start
    leap = parse_timerange("[2016-12-31T23:59:60Z]").start
    after = parse_timerange("[2017-01-01T00:00:00Z]").start
    assert before is not None
    assert leap is not None
    assert after is not None
    assert (leap - before, after - leap) == (S, S)


def test_overlap_honours_clusivity() -> None:
    a, b, c = (parse_timerange(t) for t in ("[0:0_10:0)", "[10:0_20:0)", "[0:0_10:0]"))
    assert not a.overlaps(b)
    assert c.overlaps(b)
    assert ETERNITY.overlaps(a)
    assert not NEVER.overlaps(ETERNITY)


def test_algebra() -> None:
    a = parse_timerange("[0:0_10:0)")
    b = parse_timerange("[5:0_15:0)")
    assert format_timerange(a.intersection(b)) == "[5:0_10:0)"
    assert format_timerange(a.extent(b)) == "[0:0_15:0)"
    assert a.union(b) == [parse_timerange("[0:0_15:0)")]
    far = parse_timerange("[20:0_30:0)")
    assert a.union(far) == [a, far]
    assert a.union(parse_timerange("[10:0_11:0)")) == [parse_timerange("[0:0_11:0)")]
    assert [format_timerange(p) for p in a.subtract(parse_timerange("[2:0_3:0)"))] == [
        "[0:0_2:0)",
        "[3:0_10:0)",
    ]
    assert a.subtract(ETERNITY) == []
    assert ETERNITY.subtract(a) == [parse_timerange("_0:0)"), parse_timerange("[10:0_")]
    assert a.contains_range(parse_timerange("[1:0_2:0]"))
    assert not a.contains_range(b)
    assert a.contains_range(NEVER)
    assert a.contains_ns(0)
    assert not a.contains_ns(10 * S)
    assert a.duration_ns == 10 * S
    assert ETERNITY.duration_ns is None
    assert NEVER.duration_ns == 0


def test_storage_bounds() -> None:
    assert to_bounds(ETERNITY) == (INT64_MIN, INT64_MAX)
    a = parse_timerange("[0:0_10:0)")
    assert from_bounds(*to_bounds(a)) == a
    assert from_bounds(*to_bounds(parse_timerange("_5:0)"))) == parse_timerange("_5:0)")
    with pytest.raises(InvalidArgument):
        to_bounds(parse_timerange("[99999999999:0_"))
    assert TimeRange.of(5, 5) is NEVER
