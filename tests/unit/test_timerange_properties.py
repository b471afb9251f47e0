"""Property tests of the timerange module, and a differential test against BBC's
reference library ``mediatimestamp`` on generated strings of the spec's grammar."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mediatimestamp.immutable import TimeRange as RefTimeRange

from tams_server.domain.timerange import (
    NS_PER_S,
    TimeRange,
    format_timerange,
    format_timestamp,
    parse_timerange,
    parse_timestamp,
)

# Near zero, near second boundaries and far out, where off-by-one errors live.
nanoseconds = st.one_of(
    st.integers(-3 * NS_PER_S, 3 * NS_PER_S),
    st.integers(-(2**62), 2**62),
    st.sampled_from([0, 1, -1, NS_PER_S - 1, NS_PER_S, -NS_PER_S, -NS_PER_S + 1]),
)
timestamps = nanoseconds.map(format_timestamp)
openers = st.sampled_from(["", "[", "("])
closers = st.sampled_from(["", "]", ")"])


@st.composite
def timerange_texts(draw: st.DrawFn) -> str:
    """Strings the spec's timerange regex accepts."""
    start = draw(st.one_of(st.just(""), timestamps))
    with_end = draw(st.booleans())
    end = draw(st.one_of(st.just(""), timestamps)) if with_end else ""
    return f"{draw(openers)}{start}{'_' + end if with_end else ''}{draw(closers)}"


timeranges = timerange_texts().map(parse_timerange)


@given(nanoseconds)
def test_timestamp_round_trip(ns: int) -> None:
    assert parse_timestamp(format_timestamp(ns)) == ns


def test_a_range_between_two_nanoseconds_is_empty() -> None:
    assert _holds_no_nanosecond("(0:0_0:1)")
    assert parse_timerange("(0:0_0:1)").is_empty


@given(timerange_texts())
def test_format_is_canonical_and_round_trips(text: str) -> None:
    tr = parse_timerange(text)
    canonical = format_timerange(tr)
    assert parse_timerange(canonical) == tr
    assert format_timerange(parse_timerange(canonical)) == canonical


@given(timeranges, timeranges)
def test_overlap_laws(a: TimeRange, b: TimeRange) -> None:
    assert a.overlaps(b) == b.overlaps(a)
    assert a.intersection(b) == b.intersection(a)
    assert a.overlaps(b) == (not a.intersection(b).is_empty)
    cut = a.intersection(b)
    assert a.contains_range(cut)
    assert b.contains_range(cut)


@given(timeranges, timeranges)
def test_extent_and_union_laws(a: TimeRange, b: TimeRange) -> None:
    whole = a.extent(b)
    assert whole.contains_range(a)
    assert whole.contains_range(b)
    pieces = a.union(b)
    assert len(pieces) <= 2
    for piece in pieces:
        assert whole.contains_range(piece)
    if len(pieces) == 2:
        assert not pieces[0].overlaps(pieces[1])


@given(timeranges, timeranges)
def test_subtract_laws(a: TimeRange, b: TimeRange) -> None:
    pieces = a.subtract(b)
    for piece in pieces:
        assert not piece.overlaps(b)
        assert a.contains_range(piece)
    covered = a.intersection(b)
    for piece in pieces:
        covered = covered.extent(piece)
    assert covered.contains_range(a)


@given(timeranges, nanoseconds)
def test_contains_ns_matches_intersection(a: TimeRange, ns: int) -> None:
    assert a.contains_ns(ns) == a.overlaps(TimeRange.of(ns, ns + 1))


def _holds_no_nanosecond(text: str) -> bool:
    """mediatimestamp reasons on a continuous line, so it calls ``(0:0_0:1)``
    non-empty; on the TAMS timeline of whole nanoseconds it holds no instant, and so it
    is empty here. The differential tests leave out that one deliberate difference."""
    return _ref_holds_no_nanosecond(RefTimeRange.from_str(text))


def _ref_holds_no_nanosecond(ref: RefTimeRange) -> bool:
    if ref.is_empty() or ref.start is None or ref.end is None:
        return False
    start = ref.start.to_nanosec() + (0 if ref.includes_start() else 1)
    end = ref.end.to_nanosec() + (1 if ref.includes_end() else 0)
    return end <= start


def _reference(text: str) -> tuple[bool, int | None, int | None]:
    """Emptiness and half-open bounds in ns, by mediatimestamp's reading of ``text``."""
    ref = RefTimeRange.from_str(text)
    if ref.is_empty():
        return True, None, None
    start = None if ref.start is None else ref.start.to_nanosec()
    if start is not None and not ref.includes_start():
        start += 1
    end = None if ref.end is None else ref.end.to_nanosec()
    if end is not None and ref.includes_end():
        end += 1
    return False, start, end


@settings(max_examples=500)
@given(timerange_texts())
def test_same_meaning_as_mediatimestamp(text: str) -> None:
    assume(not _holds_no_nanosecond(text))
    ours = parse_timerange(text)
    empty, start, end = _reference(text)
    assert ours.is_empty == empty
    if not empty:
        assert (ours.start, ours.end) == (start, end)


@settings(max_examples=500)
@given(timerange_texts(), timerange_texts())
def test_same_overlaps_as_mediatimestamp(a: str, b: str) -> None:
    ref_a, ref_b = RefTimeRange.from_str(a), RefTimeRange.from_str(b)
    assume(not _ref_holds_no_nanosecond(ref_a.intersect_with(ref_b)))
    ref = ref_a.overlaps_with_timerange(ref_b)
    assert parse_timerange(a).overlaps(parse_timerange(b)) == ref
