"""A span per HTTP request, named by its route's template (``GET /flows/{flowId}``).

Our own ASGI middleware rather than OpenTelemetry's ASGI instrumentation, which
records each request's full URL: a TAMS query string may carry ``access_token``. The
span keeps the path and no query.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class TraceRequests:
    """ASGI middleware: each HTTP request in a SERVER span, current while the app
    runs (so that the gateway's gRPC call is its child); 5xx answers and exceptions
    mark it as an error."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self._app, self._tracer = app, tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        with self._tracer.start_as_current_span(
            method,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self._app(scope, receive, send_traced)
            finally:
                _name_by_route(span, scope, method)


def _name_by_route(span: trace.Span, scope: Scope, method: str) -> None:
    """Rename the span after the route that answered (Starlette notes it in the
    scope while routing): the path template, not the path, keeps names few."""
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        span.set_attribute("http.route", template)
        span.update_name(f"{method} {template}")
