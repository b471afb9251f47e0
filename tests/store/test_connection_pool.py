"""The connection pools: up to ``pool_size`` connections, opened as needed and kept,
so that a busy moment does not open and close connections call after call (each a
PostgreSQL backend started), and never more than ``pool_size`` at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from tams_server.domain.errors import Reason, Unavailable
from tams_server.store.engine import POSTGRESQL_POOL_SIZE, SQLITE_READERS, Database

POOL_SIZE = 4


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database.connect(database_url, pool_size=POOL_SIZE)
    try:
        yield database
    finally:
        await database.dispose()


def _count_connects(database: Database) -> list[int]:
    opened = [0]

    @event.listens_for(database.engine.sync_engine, "connect")
    def _opened(_dbapi: Any, _record: Any) -> None:
        opened[0] += 1

    return opened


async def test_busy_moments_reuse_the_connections_they_opened(database: Database) -> None:
    opened = _count_connects(database)
    in_use = 0
    most_in_use = 0

    async def read() -> None:
        nonlocal in_use, most_in_use
        async with database.read() as conn:
            in_use += 1
            most_in_use = max(most_in_use, in_use)
            await conn.execute(text("SELECT 1"))
            await asyncio.sleep(0.005)
            in_use -= 1

    for _ in range(5):  # five busy moments, each more readers than connections
        await asyncio.gather(*(read() for _ in range(3 * POOL_SIZE)))
    assert most_in_use == POOL_SIZE
    assert opened[0] == POOL_SIZE


async def test_each_engine_has_a_default_size(tmp_path: Path) -> None:
    sqlite = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    postgresql = Database.connect("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # unopened
    try:
        assert sqlite.engine.pool.size() == SQLITE_READERS  # type: ignore[attr-defined]
        assert postgresql.engine.pool.size() == POSTGRESQL_POOL_SIZE  # type: ignore[attr-defined]
    finally:
        await sqlite.dispose()
        await postgresql.dispose()


async def test_a_unit_of_work_no_connection_came_free_for_is_unavailable(
    database_url: str,
) -> None:
    database = Database.connect(database_url, pool_size=1, pool_timeout_s=0.2)
    try:
        async with database.read() as held:
            await held.execute(text("SELECT 1"))
            # SQLite's writes have a connection of their own: they go on.
            shared = [database.read] if database.is_sqlite else [database.read, database.write]
            if database.is_sqlite:
                async with database.write() as conn:
                    assert await conn.scalar(text("SELECT 1")) == 1
            for unit_of_work in shared:
                with pytest.raises(Unavailable) as refused:
                    async with unit_of_work():
                        pytest.fail("got a connection none of which was free")
                assert refused.value.reason is Reason.DATABASE_BUSY
                assert refused.value.metadata == {"pool_size": "1"}
                assert "all 1 database connections" in refused.value.message
        # Once one is free again, it serves.
        async with database.write() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await database.dispose()
