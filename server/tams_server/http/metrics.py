"""``GET /metrics`` (Prometheus text format) and the REST side's request metrics.

Who may scrape (``--metrics``):

- ``auth`` (the default): the same rule as the API. A server without authentication
  (which it allows only on loopback, or with ``--allow-anonymous``) serves
  ``/metrics`` to anyone who reaches it; a server with authentication wants
  credentials (a bearer token or Basic user, as for the API) that carry the scope
  ``tams-api/metrics`` (or ``tams-api/admin``): a scraper needs no right on the media.
- ``public``: anyone who reaches the HTTP port (for scrapers without credentials on a
  network that only they reach).
- ``off``: no ``/metrics``, and nothing is measured.

The metrics hold counts, timings and method names, never a resource's id or content.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tams_server.auth.scopes import ADMIN
from tams_server.domain.errors import Unauthenticated
from tams_server.domain.principal import Principal

METRICS_SCOPE = "tams-api/metrics"
"""The scope that lets a caller scrape ``/metrics`` (``tams-api/admin`` does too)."""

METRICS_ACCESS = ("auth", "public", "off")
"""The values of ``--metrics``."""

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0,
)  # fmt: skip
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


class Authenticator(Protocol):
    """Turns credentials into a principal, or raises ``Unauthenticated``."""

    async def authenticate(self, metadata: Sequence[tuple[str, str | bytes]]) -> Principal | None:
        """The principal (None = anonymous)."""
        ...


class HttpMetrics:
    """REST requests by method, route template and status, on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "code"),
            registry=registry,
        )
        self.seconds = Histogram(
            "http_request_duration_seconds",
            "Time from an HTTP request's arrival to the end of its response body.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.seconds.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)


class RestMetrics:
    """ASGI middleware: times each HTTP request and counts it under its route's
    template (``/flows/{flow_id}/segments``), never its path, so ids do not become
    labels; a request no route matched counts as ``unmatched``."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an error no handler answered

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            self._metrics.observe(method, template, status, time.perf_counter() - started)


def metrics_routes(
    registry: CollectorRegistry,
    *,
    refresh: Callable[[], Awaitable[None]],
    authenticator: Authenticator | None,
    public: bool,
) -> list[Route]:
    """``GET /metrics``: ``refresh`` (the gauges read from the database) then the
    registry's metrics. Without ``public``, a server with an ``authenticator`` asks
    for credentials with the scope ``tams-api/metrics`` (see the module's doc)."""

    async def scrape(request: Request) -> Response:
        if not public and authenticator is not None:
            refused = await _refusal(request, authenticator)
            if refused is not None:
                return refused
        await refresh()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", scrape, methods=["GET"])]


async def _refusal(request: Request, authenticator: Authenticator) -> Response | None:
    """None when the request's credentials may scrape; else the answer refusing it."""
    authorization = request.headers.get("authorization")
    challenge = {"WWW-Authenticate": 'Bearer realm="tams"'}
    if authorization is None:
        return PlainTextResponse("credentials required", status_code=401, headers=challenge)
    try:
        principal = await authenticator.authenticate((("authorization", authorization),))
    except Unauthenticated as error:
        return PlainTextResponse(error.message, status_code=401, headers=challenge)
    scopes = frozenset() if principal is None else principal.scopes
    if METRICS_SCOPE not in scopes and ADMIN not in scopes:
        return PlainTextResponse(f"scraping requires the scope {METRICS_SCOPE}", status_code=403)
    return None
