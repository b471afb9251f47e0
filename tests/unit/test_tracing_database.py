"""Statement spans (``tracing.database``) on a real SQLite engine: one per statement,
its text but not its parameters, and an error status when the statement fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tams_server.tracing.database import trace_statements


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def engine(tmp_path: Path, exporter: InMemorySpanExporter) -> AsyncIterator[AsyncEngine]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'spans.db'}")
    trace_statements(engine, provider.get_tracer("test"))
    yield engine
    await engine.dispose()
    provider.shutdown()


async def test_a_statement_is_a_span_with_its_text_not_its_values(
    engine: AsyncEngine, exporter: InMemorySpanExporter
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (name TEXT)"))
        await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), {"name": "hidden-value"})
    spans = {span.name: span for span in exporter.get_finished_spans()}
    insert = spans["INSERT"]
    assert insert.kind == SpanKind.CLIENT
    assert dict(insert.attributes or {}) == {
        "db.system": "sqlite",
        "db.operation.name": "INSERT",
        "db.query.text": "INSERT INTO t (name) VALUES (?)",
    }
    assert "CREATE" in spans
    assert insert.status.status_code == StatusCode.UNSET


async def test_a_failed_statement_is_an_error_span(
    engine: AsyncEngine, exporter: InMemorySpanExporter
) -> None:
    async with engine.connect() as conn:
        with pytest.raises(OperationalError):
            await conn.execute(text("SELECT * FROM no_such_table"))
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "SELECT"]
    assert span.status.status_code == StatusCode.ERROR
    assert span.status.description == "OperationalError"
    assert span.end_time is not None
