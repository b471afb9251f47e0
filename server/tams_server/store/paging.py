"""Keyset paging: opaque, signed page tokens and the WHERE/ORDER BY they imply.

A token carries the sort key of the last item returned and a fingerprint of the query
it belongs to, serialised and signed with HMAC-SHA256 under a secret kept in the
database (so every replica accepts every other's tokens). A token that was tampered
with, or is replayed against another query, is INVALID_ARGUMENT with reason
``INVALID_PAGE_TOKEN``. Pages are always read with ``key > last_key`` on an index,
never OFFSET: page 1000 costs what page 1 costs (design decision 4).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.errors import InvalidArgument, Reason

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_SIGNATURE_BYTES = 16

KeyValue = int | str | None
T = TypeVar("T")


def page_size(requested: int, *, field: str = "page_size", default: int = DEFAULT_PAGE_SIZE,
              maximum: int = MAX_PAGE_SIZE) -> int:  # fmt: skip
    """The page size to use: 0 means the default, above the maximum is coerced down
    (AIP-158; TAMS lets a service return fewer than `limit`), negative is an error."""
    if requested < 0:
        raise InvalidArgument.for_field(field, f"must be >= 0, got {requested}")
    if requested == 0:
        return default
    return min(requested, maximum)


class PageTokenCodec:
    """Signs and verifies page tokens."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def encode(self, last_key: Sequence[KeyValue], fingerprint: str) -> str:
        """A token resuming after ``last_key`` for the query with ``fingerprint``."""
        body = json.dumps([list(last_key), fingerprint], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._sign(body) + body).rstrip(b"=").decode()

    def decode(self, token: str, fingerprint: str, *, field: str = "page_token") -> list[KeyValue]:
        """The last key inside ``token``, if it is genuine and made for this query."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise _bad_token(field, "is not a page token from this service") from None
        signature, body = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(body)):
            raise _bad_token(field, "is not a page token from this service")
        last_key, token_fingerprint = json.loads(body)
        if token_fingerprint != fingerprint:
            raise _bad_token(
                field, "belongs to a listing with other filters or order; start again without it"
            )
        return list(last_key)

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _bad_token(field: str, description: str) -> InvalidArgument:
    return InvalidArgument.for_field(field, description, reason=Reason.INVALID_PAGE_TOKEN)


def fingerprint(*parts: Any) -> str:
    """A short stable digest of a query's filters and order."""
    text = json.dumps(parts, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class SortSpec:
    """An ordering over a tuple of expressions that ends in a unique key.

    All parts share one direction, so "after the last key" is a single row-value
    comparison that both engines answer from a composite index.
    """

    keys: tuple[ColumnElement[Any], ...]
    descending: bool

    def order_by(self) -> list[ColumnElement[Any]]:
        """ORDER BY clauses."""
        return [key.desc() if self.descending else key.asc() for key in self.keys]

    def after(self, last_key: Sequence[KeyValue]) -> ColumnElement[bool]:
        """Rows strictly after ``last_key`` in this order."""
        if len(last_key) != len(self.keys):
            raise _bad_token("page_token", "does not fit this listing's order")
        mine, theirs = tuple_(*self.keys), tuple_(*last_key)
        return mine < theirs if self.descending else mine > theirs


def tams_order(
    *,
    label: ColumnElement[Any],
    date: ColumnElement[Any],
    unique: ColumnElement[Any],
    by_label: bool,
    reverse: bool,
) -> SortSpec:
    """The TAMS order of a listing (ADR 0052): dates newest first; labels ascending
    with unlabelled items after them, by id; ``reverse_order`` flips it all."""
    if by_label:
        keys = (case((label.is_(None), 1), else_=0), func.coalesce(label, ""), unique)
        return SortSpec(keys, descending=reverse)
    return SortSpec((date, unique), descending=not reverse)


@dataclass(frozen=True)
class Pager:
    """Keyset paging of one listing: its page size and the signed tokens of its query
    (``fingerprint``). A page is read with ``limit`` (one more than it holds, so the
    extra item tells whether another page follows) and ``cut`` to size with the token
    of the next page."""

    tokens: PageTokenCodec
    fingerprint: str
    size: int

    @property
    def limit(self) -> int:
        """How many items to read for one page."""
        return self.size + 1

    def resume(self, page_token: str) -> list[KeyValue] | None:
        """The key to read after (None: from the start), from a request's token."""
        return self.tokens.decode(page_token, self.fingerprint) if page_token else None

    def next_token(self, last_key: Sequence[KeyValue]) -> str:
        """The token of the page after the item with ``last_key``."""
        return self.tokens.encode(last_key, self.fingerprint)

    def cut(
        self, items: Sequence[T], key: Callable[[T], Sequence[KeyValue]]
    ) -> tuple[Sequence[T], str]:
        """The page among ``items`` (read with ``limit``) and the token of the next
        page ("" on the last)."""
        if len(items) <= self.size:
            return items, ""
        page = items[: self.size]
        return page, self.next_token(key(page[-1]))


async def read_page(
    conn: AsyncConnection,
    query: Select[Any],
    sort: SortSpec,
    *,
    tokens: PageTokenCodec,
    query_fingerprint: str,
    page_size: int,
    page_token: str,
) -> tuple[list[Row[Any]], str]:
    """One page of ``query`` in ``sort`` order after ``page_token``, and the token of
    the next page ("" on the last)."""
    pager = Pager(tokens, query_fingerprint, page_size)
    stmt = query.add_columns(*sort.keys).order_by(*sort.order_by())
    after = pager.resume(page_token)
    if after is not None:
        stmt = stmt.where(sort.after(after))
    rows = list(await conn.execute(stmt.limit(pager.limit)))
    width = len(sort.keys)
    page, token = pager.cut(rows, lambda row: list(row[-width:]))
    return list(page), token
