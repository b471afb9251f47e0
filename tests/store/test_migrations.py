"""Migrations that reshape existing tables go down and up again on both engines."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from conftest import postgresql_url
from tams_server.store import schema
from tams_server.store.engine import Database
from tams_server.store.migrate import alembic_config, migrate

SEGMENT_TABLES = ("segments", "deleted_segments")
TAG_TABLES = {"source_tags": "source_id", "flow_tags": "flow_id", "webhook_tags": "webhook_id"}


@asynccontextmanager
async def _migrated(engine: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A database of ``engine`` migrated to head, disposed of after."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'tams.db'}" if engine == "sqlite" else postgresql_url()
    database = Database.connect(url)
    try:
        await migrate(database)
        yield database
    finally:
        await database.dispose()


def _to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if revision == "head":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


def _columns(connection: Connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns(table)}


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_segments_lose_their_unused_get_urls(engine: str, tmp_path: Path) -> None:
    async with _migrated(engine, tmp_path) as database, database.engine.begin() as conn:
        for table in SEGMENT_TABLES:
            assert "get_urls" not in await conn.run_sync(_columns, table)
        await conn.run_sync(_to, "0008")
        for table in SEGMENT_TABLES:
            assert "get_urls" in await conn.run_sync(_columns, table)
        await conn.run_sync(_to, "head")
        for table in SEGMENT_TABLES:
            assert "get_urls" not in await conn.run_sync(_columns, table)
        if engine == "sqlite":  # dropped in place: still clustered by (flow, start)
            created = await conn.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'segments'")
            )
            assert "WITHOUT ROWID" in created


def _indexed(connection: Connection, table: str) -> set[tuple[str | None, ...]]:
    """The columns of each index of ``table``."""
    return {tuple(index["column_names"]) for index in inspect(connection).get_indexes(table)}


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_tag_tables_are_indexed_by_owner_name_and_value(engine: str, tmp_path: Path) -> None:
    """0013 trades each tag table's (owner) index for (owner, name, value), and back."""
    async with _migrated(engine, tmp_path) as database, database.engine.begin() as conn:
        for revision, composite in (("head", True), ("0012", False), ("head", True)):
            await conn.run_sync(_to, revision)
            for table, owner in TAG_TABLES.items():
                with_values = (owner, "name", "value")
                expected = {with_values if composite else (owner,), ("name", "value")}
                assert await conn.run_sync(_indexed, table) == expected


def _differences(connection: Connection) -> list[object]:
    """What Alembic's autogenerate would change to make the database match
    ``store.schema`` (empty: the migrations build exactly the declared schema)."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return list(compare_metadata(context, schema.metadata))


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_the_migrations_build_the_declared_schema(engine: str, tmp_path: Path) -> None:
    async with _migrated(engine, tmp_path) as database, database.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


_PLACES = (
    "object_storage_id", "object_storage_key", "object_get_urls", "object_extra_instances"
)  # fmt: skip


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_segments_are_given_their_objects_places(engine: str, tmp_path: Path) -> None:
    """0014 adds the copy of the Object's place to live Segments and fills it from the
    Objects; a Segment whose Object row is missing is left to be looked up. Rolled
    back at the end: the PostgreSQL database is the suite's."""
    flow_id, source_id = str(uuid.uuid4()), str(uuid.uuid4())
    stored, external, missing = (f"{name}-{flow_id}" for name in ("stored", "external", "gone"))
    async with _migrated(engine, tmp_path) as database, database.engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.run_sync(_to, "0013")
            assert not set(_PLACES) & await conn.run_sync(_columns, "segments")
            await _segments_of_two_objects(conn, flow_id, source_id, (stored, external, missing))
            await conn.run_sync(_to, "head")
            rows = await conn.execute(
                text(
                    f"SELECT object_id, {', '.join(_PLACES)} FROM segments WHERE flow_id = :f "
                    "ORDER BY start_ns"
                ),
                {"f": flow_id},
            )
            found = [
                (row[0], row[1], row[2],
                 orjson.loads(row[3]) if isinstance(row[3], str) else row[3], row[4])
                for row in rows
            ]  # fmt: skip
            assert found == [
                (stored, "backend", "a/key", None, 2),
                (external, None, None, [{"url": "https://x.example/o", "label": "x"}], 0),
                (missing, None, None, None, None),
            ]
            await conn.run_sync(_to, "0013")
            assert not set(_PLACES) & await conn.run_sync(_columns, "segments")
        finally:
            await transaction.rollback()


async def _segments_of_two_objects(
    conn: AsyncConnection, flow_id: str, source_id: str, object_ids: tuple[str, str, str]
) -> None:
    """A Flow with a Segment for each of ``object_ids``: one stored Object with two
    further copies, one external, one with no row."""
    stored, external, _ = object_ids
    await conn.execute(
        text(
            "INSERT INTO sources (id, format, tags, created_ns, updated_ns) "
            "VALUES (:s, 'urn:x-nmos:format:video', '{}', 0, 0)"
        ),
        {"s": source_id},
    )
    await conn.execute(
        text(
            "INSERT INTO flows (id, source_id, format, tags, metadata_version, created_ns, "
            "metadata_updated_ns) VALUES (:f, :s, 'urn:x-nmos:format:video', '{}', 'v', 0, 0)"
        ),
        {"f": flow_id, "s": source_id},
    )
    await conn.execute(
        text(
            "INSERT INTO objects (id, created_ns, storage_id, storage_key, get_urls, "
            "extra_instances) VALUES (:stored, 0, 'backend', 'a/key', NULL, 2), "
            "(:external, 0, NULL, NULL, :urls, 0)"
        ),
        {
            "stored": stored, "external": external,
            "urls": '[{"url": "https://x.example/o", "label": "x"}]',
        },
    )  # fmt: skip
    for start, object_id in enumerate(object_ids):
        await conn.execute(
            text(
                "INSERT INTO segments (flow_id, start_ns, end_ns, timerange, object_id, "
                "created_ns) VALUES (:f, :start, :end, '[0:0_1:0)', :o, 0)"
            ),
            {"f": flow_id, "start": start, "end": start + 1, "o": object_id},
        )
