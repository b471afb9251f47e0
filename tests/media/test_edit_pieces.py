"""How ``tams clip`` and ``tams concat`` read their ranges (no store needed)."""

from __future__ import annotations

import pytest

from tams_cli._edit import Piece, parse_piece
from tams_cli._timing import NS, TimeRange


def test_a_piece_is_a_flow_and_its_range() -> None:
    assert parse_piece("abc:[10:0_20:0)") == Piece("abc", TimeRange(10 * NS, 20 * NS))
    assert parse_piece("abc:(10:0_20:0]") == Piece("abc", TimeRange(10 * NS + 1, 20 * NS + 1))
    assert parse_piece("abc") == Piece("abc", TimeRange(None, None))
    assert parse_piece("abc", "[1:0_") == Piece("abc", TimeRange(NS, None))


@pytest.mark.parametrize(
    ("text", "timerange", "says"),
    [
        (":[0:0_1:0)", None, "names no flow"),
        ("abc:[5:0_5:0)", None, "is empty"),
        ("abc:[6:0_5:0)", None, "is empty"),
        ("abc:1.5", None, "not a TAMS timestamp"),
        ("abc:[0:0_1:0)", "[0:0_1:0)", "give the range once"),
    ],
)
def test_bad_pieces_say_what_is_wrong(text: str, timerange: str | None, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_piece(text, timerange)


def test_ranges_intersect_and_know_when_they_are_empty() -> None:
    whole, part = TimeRange(0, 10), TimeRange(5, None)
    assert whole.intersection(part) == TimeRange(5, 10)
    assert whole.intersection(TimeRange(10, 20)).empty
    assert not TimeRange(None, None).empty
    assert TimeRange(3, 4).bounds() == (3, 4)
    with pytest.raises(ValueError, match="open end"):
        part.bounds()
