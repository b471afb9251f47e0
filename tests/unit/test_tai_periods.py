"""``tai.utc_offset_periods``: a TAI range cut where TAI - UTC changes, so that each
part less its offset is UTC (the hours of the analytics' time distribution)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from tams_server.tai import NS_PER_S, iso_to_tai_ns, tai_offset_s, utc_offset_periods


def test_a_range_without_a_leap_second_is_one_part() -> None:
    start, end = iso_to_tai_ns("2024-12-20T10:00:00Z"), iso_to_tai_ns("2024-12-20T11:00:00Z")
    assert utc_offset_periods(start, end) == [(start, end, 37 * NS_PER_S)]
    assert utc_offset_periods(end, end) == []


def test_a_range_over_a_leap_second_is_cut_where_the_offset_changes() -> None:
    start = iso_to_tai_ns("2016-12-31T23:00:00Z")
    end = iso_to_tai_ns("2017-01-01T01:00:00Z")
    change = iso_to_tai_ns("2017-01-01T00:00:00Z")
    assert utc_offset_periods(start, end) == [
        (start, change, 36 * NS_PER_S),
        (change, end, 37 * NS_PER_S),
    ]


@given(st.integers(-(2**62), 2**62), st.integers(0, 2**61))
def test_the_parts_tile_the_range_and_hold_its_offsets(start: int, length: int) -> None:
    parts = utc_offset_periods(start, start + length)
    if length == 0:
        assert parts == []
        return
    assert parts[0][0] == start
    assert parts[-1][1] == start + length
    for (_, end, offset), (next_start, _, next_offset) in pairwise(parts):
        assert end == next_start
        assert offset != next_offset
    for part_start, part_end, offset in parts:
        assert part_start < part_end
        utc_s = (part_start - offset) // NS_PER_S
        assert tai_offset_s(utc_s) * NS_PER_S == offset
