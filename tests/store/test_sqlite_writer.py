"""SQLite write transactions take turns on a connection of their own, whose page cache
is larger than the readers' and stays warm from one write to the next."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from tams_server.store.engine import WRITER_CACHE_KIB, Database
from tams_server.store.migrate import migrate


async def _cache_kib(database: Database, *, write: bool) -> int:
    unit = database.write() if write else database.read()
    async with unit as conn:
        pages = await conn.scalar(text("PRAGMA cache_size"))
    assert pages is not None
    assert pages < 0  # negative: a size in KiB
    return -int(pages)


async def test_writes_run_on_the_writers_connection(tmp_path: Path) -> None:
    database = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'tams.db'}")
    try:
        await migrate(database)
        assert await _cache_kib(database, write=True) == WRITER_CACHE_KIB
        assert await _cache_kib(database, write=False) < WRITER_CACHE_KIB
        assert len(database.engines) == 2

        # Writers queue for the one connection; each sees the one before it.
        async def write(value: int) -> None:
            async with database.write() as conn:
                await conn.execute(
                    text("INSERT INTO service_settings (key, value) VALUES (:k, :v)"),
                    {"k": f"key-{value}", "v": str(value)},
                )

        await asyncio.gather(*(write(i) for i in range(20)))
        async with database.read() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM service_settings WHERE key LIKE 'key-%'")
            )
        assert count == 20
    finally:
        await database.dispose()
