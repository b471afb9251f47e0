"""TAMS paging headers: ``Link: <...>; rel="next"`` and ``X-Paging-*``."""

from __future__ import annotations

from starlette.requests import Request


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
