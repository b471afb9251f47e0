"""TAMS paging headers: ``Link: <...>; rel="next"`` and ``X-Paging-*``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

LIST_SHAPES = ("spec", "wrapped")


@dataclass(frozen=True)
class ListShape:
    """How list bodies look: bare arrays (the spec, the default), or the usage guide's
    ``{"data": [...], "paging": {...}}`` for clients written to it. The paging headers
    are sent either way."""

    wrapped: bool = False

    @classmethod
    def named(cls, name: str) -> ListShape:
        """``spec`` or ``wrapped``."""
        if name not in LIST_SHAPES:
            raise ValueError(f"list shape must be one of {', '.join(LIST_SHAPES)}, not {name!r}")
        return cls(wrapped=name == "wrapped")

    def respond(self, items: list[Any], headers: dict[str, str]) -> JSONResponse:
        """One page of a listing, with its paging headers."""
        if not self.wrapped:
            return JSONResponse(items, headers=headers)
        paging: dict[str, Any] = {"limit": int(headers["X-Paging-Limit"]), "count": len(items)}
        if "X-Paging-NextKey" in headers:
            paging["next_key"] = headers["X-Paging-NextKey"]
        return JSONResponse({"data": items, "paging": paging}, headers=headers)


SPEC_LISTS = ListShape()


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
    headers, shaped as the application's list shape says."""
    headers = paging_headers(
        request, next_token=page.next_page_token, limit=page.page_size, count=len(items),
        reverse_order=reverse_order, timerange=timerange,
    )  # fmt: skip
    lists: ListShape = request.app.state.lists
    return lists.respond(items, headers)
