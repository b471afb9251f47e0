"""A span per SQL statement, from SQLAlchemy's cursor events.

The statement's text is recorded (it holds bound parameters' placeholders, never
their values). Reads that bypass SQLAlchemy (the raw asyncpg paths of
``store.raw``) make no span.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

_SPAN_KEY = "tams_statement_span"
_SYSTEMS = {"postgresql": "postgresql", "sqlite": "sqlite"}


def trace_statements(engine: AsyncEngine, tracer: Tracer) -> None:
    """Make ``engine``'s statements spans of ``tracer``: started before the cursor
    runs, ended after it (or on its error)."""
    system = _SYSTEMS.get(engine.dialect.name, engine.dialect.name)
    database = engine.url.database or ""

    def before(
        conn: Connection, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            f"{operation} {database}".strip() if system == "postgresql" else operation,
            kind=SpanKind.CLIENT,
            attributes={
                "db.system": system,
                "db.operation.name": operation,
                "db.query.text": statement,
            },
        )
        if context is not None:
            setattr(context, _SPAN_KEY, span)

    def after(
        _conn: Connection, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        span: trace.Span | None = getattr(context, _SPAN_KEY, None)
        if span is not None:
            span.end()

    def failed(error: ExceptionContext) -> None:
        span: trace.Span | None = getattr(error.execution_context, _SPAN_KEY, None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(error.original_exception).__name__))
            span.end()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    event.listen(engine.sync_engine, "handle_error", failed)
