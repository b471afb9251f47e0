"""TAMS paging headers: ``Link: <...>; rel="next"`` and ``X-Paging-*``."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def paging_headers(
    request: Request,
    *,
    next_token: str,
    limit: int,
    count: int,
    reverse_order: bool | None = None,
    timerange: str | None = None,
) -> dict[str, str]:
    """The headers of one page; ``Link`` and ``X-Paging-NextKey`` only when there is a
    next page. The next link keeps the request's parameters and sets ``page``."""
    headers = {"X-Paging-Limit": str(limit), "X-Paging-Count": str(count)}
    if reverse_order is not None:
        headers["X-Paging-Reverse-Order"] = "true" if reverse_order else "false"
    if timerange is not None:
        headers["X-Paging-Timerange"] = timerange
    if next_token:
        params = dict(request.query_params)
        params["page"] = next_token
        url = request.url.replace_query_params(**params)
        headers["Link"] = f'<{url}>; rel="next"'
        headers["X-Paging-NextKey"] = next_token
    return headers


class Page(Protocol):
    """A list call's response: where the next page starts, and the size used."""

    @property
    def next_page_token(self) -> str: ...

    @property
    def page_size(self) -> int: ...


def list_response(
    request: Request,
    page: Page,
    items: list[Any],
    *,
    reverse_order: bool | None = None,
    timerange: str | None = None,
) -> Response:
    """One page of a listing (``items``, the JSON of ``page``'s), with its paging
    headers (the spec's bare array; a dialect may wrap it)."""
    headers = paging_headers(
        request, next_token=page.next_page_token, limit=page.page_size, count=len(items),
        reverse_order=reverse_order, timerange=timerange,
    )  # fmt: skip
    return JSONResponse(items, headers=headers)
