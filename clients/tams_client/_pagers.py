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


class StreamPage(Protocol):
    """One message of a streamed listing."""

    @property
    def next_page_token(self) -> str: ...


StreamPageT = TypeVar("StreamPageT", bound=StreamPage)


class AsyncStreamPager(Generic[Item, StreamPageT]):
    """A server-streamed listing: ``async for item in pager`` or ``pager.pages()``.
    When the connection drops (UNAVAILABLE), the stream is opened again from the last
    page's token, so nothing is lost or repeated."""

    def __init__(
        self,
        open_stream: Callable[[str], AsyncIterator[StreamPageT]],
        items: Callable[[StreamPageT], Sequence[Item]],
        *,
        resume_on: Callable[[BaseException], bool],
        max_resumes: int = 5,
    ) -> None:
        self._open = open_stream
        self._items = items
        self._resume_on = resume_on
        self._max_resumes = max_resumes

    async def pages(self) -> AsyncIterator[StreamPageT]:
        """Every page (message), in order."""
        token, resumes = "", 0
        while True:
            try:
                async for page in self._open(token):
                    yield page
                    token = page.next_page_token
                    if not token:
                        return
                return
            except Exception as error:
                if not token or resumes >= self._max_resumes or not self._resume_on(error):
                    raise
                resumes += 1

    def __aiter__(self) -> AsyncIterator[Item]:
        return self._each()

    async def _each(self) -> AsyncIterator[Item]:
        async for page in self.pages():
            for item in self._items(page):
                yield item
