"""Auto-paging listings: iterate items, or whole pages with ``.pages()``; and the
cursor both clients page with, resuming where a failure stopped them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Generic, TypeVar

import grpc
from google.protobuf.message import Message

from tams_client._calls import Listing, Page, Settings

Item = TypeVar("Item")
Opened = TypeVar("Opened")


class _Paged(Generic[Opened, Item, Page]):
    """A listing, paged as it is read: ``pages()`` opens it afresh."""

    def __init__(
        self, pages: Callable[[], Opened], items: Callable[[Page], Sequence[Item]]
    ) -> None:
        self._pages = pages
        self._items = items

    def pages(self) -> Opened:
        """Every page (reply) in order, with the token to resume later from
        (``next_page_token`` for ``page_token=``; ``resume_cursor`` for
        ``after_cursor=``)."""
        return self._pages()


class AsyncPager(_Paged[AsyncIterator[Page], Item, Page], Generic[Item, Page]):
    """``async for item in pager`` fetches pages as needed; ``pager.pages()`` yields
    whole replies."""

    async def __aiter__(self) -> AsyncIterator[Item]:
        async for page in self._pages():
            for item in self._items(page):
                yield item


AsyncStreamPager = AsyncPager
"""The pager of a streamed listing (the same class: only the transport differs)."""


class Pager(_Paged[Iterator[Page], Item, Page], Generic[Item, Page]):
    """The blocking AsyncPager: ``for item in pager``, ``pager.pages()``."""

    def __iter__(self) -> Iterator[Item]:
        for page in self._pages():
            yield from self._items(page)


class Cursor(Generic[Page]):
    """Where a listing has got to: the request of the next page, and the retries of
    reaching it. A failure that may be retried reopens the listing from the last page
    received, so no page is lost or repeated; each page received renews the retries."""

    def __init__(self, listing: Listing[Page, object], settings: Settings) -> None:
        self._streamed = listing.rpc.server_streaming
        self._timeout, self._policy = settings.resolve(listing.options, streaming=self._streamed)
        self._listing = listing
        self._token = ""
        self._attempts = self._policy.start(self._timeout)
        self.done = False

    def request(self) -> Message:
        """The request that lists from the next page on."""
        return self._listing.request_at(self._token)

    def timeout(self) -> float | None:
        """The next attempt's timeout."""
        return self._attempts.timeout(capped=not self._streamed)

    def advance(self, page: Page) -> Page:
        """``page`` received: the listing goes on from its token, if any."""
        self._token = self._listing.next_token(page)
        self.done = not self._token
        self._attempts = self._policy.start(self._timeout)
        return page

    def closed(self) -> None:
        """The call or stream ended without an error. A stream that ends has sent
        every page (its last may carry a token still: the server could not tell it
        was the last); a unary call has answered one page."""
        if self._streamed:
            self.done = True

    def pause_or_raise(self, error: grpc.RpcError) -> float:
        """The pause before reopening the listing after ``error``, or its
        TamsClientError."""
        return self._attempts.pause_or_raise(error)
