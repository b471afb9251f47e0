"""Auto-paging listings: iterate items, or whole pages with ``.pages()``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar

Item = TypeVar("Item")


class PageResponse(Protocol):
    """A listing response: one page and the token of the next."""

    @property
    def next_page_token(self) -> str: ...


Page = TypeVar("Page", bound=PageResponse)


class AsyncPager(Generic[Item, Page]):
    """``async for item in pager`` fetches pages as needed; ``pager.pages()`` yields
    whole responses (with ``next_page_token`` to resume later)."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[Page]],
        items: Callable[[Page], Sequence[Item]],
        *,
        page_token: str = "",
    ) -> None:
        self._fetch = fetch
        self._items = items
        self._first_token = page_token

    async def pages(self) -> AsyncIterator[Page]:
        """Every page, in order."""
        token = self._first_token
        while True:
            page = await self._fetch(token)
            yield page
            token = page.next_page_token
            if not token:
                return

    def __aiter__(self) -> AsyncIterator[Item]:
        return self._each()

    async def _each(self) -> AsyncIterator[Item]:
        async for page in self.pages():
            for item in self._items(page):
                yield item


class Pager(Generic[Item, Page]):
    """The synchronous twin of AsyncPager."""

    def __init__(
        self,
        fetch: Callable[[str], Page],
        items: Callable[[Page], Sequence[Item]],
        *,
        page_token: str = "",
    ) -> None:
        self._fetch = fetch
        self._items = items
        self._first_token = page_token

    def pages(self) -> Iterator[Page]:
        """Every page, in order."""
        token = self._first_token
        while True:
            page = self._fetch(token)
            yield page
            token = page.next_page_token
            if not token:
                return

    def __iter__(self) -> Iterator[Item]:
        for page in self.pages():
            yield from self._items(page)
