"""SQLite's one hand-off per statement (``store.sqlite_hops``): transactions stay
whole when their BEGIN waits for the first statement, whichever path runs it, and a
unit of work makes the hand-offs it should (counted, not timed)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.store.engine import Database
from tams_server.store.raw import fetch_all, insert_rows
from tams_server.store.schema import settings as service_settings

KEY_VALUE = ("key", "value")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'hops.db'}")
    async with database.engine.begin() as conn:
        await conn.run_sync(service_settings.create)
    try:
        yield database
    finally:
        await database.dispose()


async def _count(database: Database) -> int:
    async with database.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(service_settings)) or 0)


async def test_a_raw_insert_first_in_a_transaction_is_rolled_back_with_it(
    database: Database,
) -> None:
    async def undone() -> None:
        async with database.write() as conn:
            await insert_rows(conn, service_settings, KEY_VALUE, [("a", "1"), ("b", "2")])
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError):
        await undone()
    assert await _count(database) == 0
    async with database.write() as conn:
        await insert_rows(conn, service_settings, KEY_VALUE, [("a", "1")])
        await conn.execute(text("INSERT INTO service_settings VALUES ('b', '2')"))
    assert await _count(database) == 2


async def test_a_raw_read_first_in_a_transaction_sees_its_snapshot(database: Database) -> None:
    stmt = select(service_settings.c.key)
    async with database.write() as conn:
        assert await fetch_all(conn, stmt, {}) == []
        driver: Any = (await conn.get_raw_connection()).driver_connection
        assert driver._conn.in_transaction  # the held BEGIN ran before the read


async def test_hand_offs_per_unit_of_work(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: Counter[str] = Counter()
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls[getattr(fn, "__name__", "")] += 1
        return await execute(self, fn, *args, **kwargs)

    await _count(database)  # a pooled connection, opened already
    async with database.write():  # and the writer's
        pass
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with database.read() as conn:  # BEGIN, two statements, COMMIT
        for _ in range(2):
            await conn.scalar(select(func.count()).select_from(service_settings))
    assert calls == {"_run": 2, "commit": 1}
    calls.clear()
    async with database.read(snapshot=False) as conn:  # one statement, no transaction
        await conn.scalar(select(func.count()).select_from(service_settings))
    assert calls == {"_run": 1}
    calls.clear()
    async with database.read(snapshot=False, inline=True) as conn:  # on this thread
        await conn.scalar(select(func.count()).select_from(service_settings))
    assert calls == {}
    async with database.write():  # nothing ran: nothing to commit
        pass
    assert calls == {}


async def _thread_of_statement(conn: AsyncConnection) -> int:
    """The thread the connection's next statement runs on (a SQL function asks)."""
    driver: Any = (await conn.get_raw_connection()).driver_connection
    await driver.create_function("thread_ident", 0, threading.get_ident)
    return int(await conn.scalar(text("SELECT thread_ident()")) or 0)


async def test_an_inline_read_runs_on_the_event_loops_thread(database: Database) -> None:
    async with database.read(snapshot=False, inline=True) as conn:
        assert await _thread_of_statement(conn) == threading.get_ident()
        # Each statement of the unit of work, not only its first.
        assert await _thread_of_statement(conn) == threading.get_ident()
    async with database.read(snapshot=False) as conn:
        assert await _thread_of_statement(conn) != threading.get_ident()


async def test_an_inline_read_is_a_single_statement(database: Database) -> None:
    with pytest.raises(ValueError, match="snapshot=False"):
        async with database.read(inline=True):
            pass


async def test_an_inline_statement_fails_as_a_handed_off_one_does(database: Database) -> None:
    for inline in (False, True):
        async with database.read(snapshot=False, inline=inline) as conn:
            with pytest.raises(OperationalError, match="no such table"):
                await conn.execute(text("SELECT * FROM nowhere"))
            # The connection goes on serving.
            assert await conn.scalar(text("SELECT 1")) == 1


async def test_inline_reads_among_writes_see_each_commit_in_order(database: Database) -> None:
    async with database.write() as conn:
        await conn.execute(text("INSERT INTO service_settings VALUES ('n', '0')"))
    writes = 60

    async def count_up() -> None:
        for n in range(1, writes + 1):
            async with database.write() as conn:
                await conn.execute(
                    text("UPDATE service_settings SET value = :n WHERE key = 'n'"), {"n": str(n)}
                )
            await asyncio.sleep(0)

    async def watch() -> list[int]:
        seen: list[int] = []
        while not seen or seen[-1] < writes:
            async with database.read(snapshot=False, inline=True) as conn:
                value = await conn.scalar(
                    select(service_settings.c.value).where(service_settings.c.key == "n")
                )
            seen.append(int(value))
            await asyncio.sleep(0)
        return seen

    _, *watched = await asyncio.gather(count_up(), *(watch() for _ in range(8)))
    for seen in watched:
        assert seen == sorted(seen)  # never an older value after a newer one
        assert seen[-1] == writes
