"""Segment rules and the overlap check, without a server."""

from __future__ import annotations

import pytest

from tams_server.domain.errors import InvalidArgument
from tams_server.domain.segments import Segment, SegmentPost, Timeline, prepare, windows_of

S = 1_000_000_000


def test_prepare_turns_clusivity_into_half_open_bounds() -> None:
    assert (prepare(SegmentPost("o", "[1:0_2:0)"), path="p").start_ns) == S
    inclusive = prepare(SegmentPost("o", "[1:0_2:0]"), path="p")
    assert (inclusive.start_ns, inclusive.end_ns) == (S, 2 * S + 1)


def test_prepare_lists_every_violation() -> None:
    with pytest.raises(InvalidArgument) as caught:
        prepare(SegmentPost("", "[2:0_1:0)", sample_count=-1, last_duration="x"), path="s[3]")
    fields = sorted(v.field for v in caught.value.field_violations)
    assert fields == ["s[3].last_duration", "s[3].object_id", "s[3].sample_count", "s[3].timerange"]


def test_timeline_finds_the_neighbour_in_the_way() -> None:
    timeline = Timeline([(0, 10, "a"), (20, 30, "b")])
    assert timeline.conflict(10, 20) is None  # touching both, overlapping neither
    assert timeline.conflict(5, 12) == "a"
    assert timeline.conflict(12, 21) == "b"
    timeline.add(10, 20, "c")
    assert timeline.conflict(15, 16) == "c"


def test_registration_windows_merge_only_near_segments() -> None:
    def seg(start: int, end: int) -> Segment:
        return Segment(SegmentPost("o", "x"), start, end)

    batch = [seg(100, 110), seg(0, 10), seg(12, 20), seg(10**12, 10**12 + 5)]
    assert windows_of(batch, gap=5) == [(0, 20), (100, 110), (10**12, 10**12 + 5)]
    assert windows_of(batch, gap=100) == [(0, 110), (10**12, 10**12 + 5)]
