"""A write unit of work cancelled mid-statement (a client that goes away during
RegisterSegments) ends as a cancellation: nothing is written, the connection's
bookkeeping is cleaned up, and the next write works."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from helpers.databases import empty_database
from tams_server.store.engine import CHANGES_KEY, Database
from tams_server.store.schema import settings as service_settings

# A statement that runs long enough to be cancelled while the driver waits on it.
SLOW = {
    "postgresql": "SELECT pg_sleep(30)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE i < 3000000) SELECT count(*) FROM n",
}


@pytest.fixture
async def database(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A database of its own: a table created here in the session's database would
    stand in the way of the server's migrations when this runs first."""
    async with empty_database(database_url, tmp_path) as url:
        database = Database.connect(url)
        async with database.engine.begin() as conn:
            await conn.run_sync(service_settings.create)
        try:
            yield database
        finally:
            await database.dispose()


async def test_a_cancelled_write_is_a_cancellation_and_leaves_nothing(
    database: Database,
) -> None:
    started = asyncio.Event()

    async def write() -> None:
        async with database.write() as conn:
            await conn.execute(service_settings.insert().values(key="cancel", value="1"))
            started.set()
            await conn.execute(text(SLOW[database.engine.dialect.name]))

    task = asyncio.create_task(write())
    await started.wait()
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async with database.write() as conn:
        assert CHANGES_KEY in conn.info
        count = await conn.scalar(
            select(func.count())
            .select_from(service_settings)
            .where(service_settings.c.key == "cancel")
        )
    assert count == 0
    async with database.read() as conn:
        assert CHANGES_KEY not in conn.info
