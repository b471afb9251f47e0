"""Page tokens: opaque, signed, bound to their query."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tams_server.domain.errors import InvalidArgument
from tams_server.store.paging import PageTokenCodec, fingerprint, page_size

CODEC = PageTokenCodec(b"k" * 32)
keys = st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(), st.none()), max_size=4)


@given(keys, st.text(max_size=30))
def test_tokens_round_trip(key: list[int | str | None], query: str) -> None:
    assert CODEC.decode(CODEC.encode(key, query), query) == key


def test_tokens_are_opaque_url_safe_text() -> None:
    token = CODEC.encode([1700000000000000000, "4f79cfd1-c057-47f4-8e4d-1b126ca7bf34"], "q")
    assert "4f79cfd1" not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "token",
    ["", "!!!", "abc", CODEC.encode([1], "q")[:-3], PageTokenCodec(b"other").encode([1], "q")],
)
def test_forged_or_damaged_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        CODEC.decode(token, "q")
    assert caught.value.reason == "INVALID_PAGE_TOKEN"
    assert [v.field for v in caught.value.field_violations] == ["page_token"]


def test_token_of_another_query_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="other filters"):
        CODEC.decode(CODEC.encode([1], fingerprint("a")), fingerprint("b"))


def test_fingerprint_is_stable_and_discriminating() -> None:
    assert fingerprint("flows", {"a": 1, "b": 2}) == fingerprint("flows", {"b": 2, "a": 1})
    assert fingerprint("flows", 1) != fingerprint("sources", 1)


@pytest.mark.parametrize(("asked", "used"), [(0, 100), (1, 1), (1000, 1000), (10**6, 1000)])
def test_page_size(asked: int, used: int) -> None:
    assert page_size(asked) == used


def test_negative_page_size_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        page_size(-1)
