"""SQLite's log is checkpointed beside the writes (``store.wal_checkpoints``): a
commit leaves the copying into the database file to a checkpoint that follows it,
and what was written reaches the file all the same."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text

from tams_server.store.engine import Database

# More than SQLite's automatic checkpoint threshold (1,000 pages of 4 KiB): a commit
# of this much would have checkpointed by itself.
_ROWS, _ROW_BYTES = 3_000, 2_000


async def _write_a_lot(database: Database) -> None:
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS blobs (n INTEGER, data BLOB)"))
        await conn.execute(
            text("INSERT INTO blobs (n, data) VALUES (:n, :data)"),
            [{"n": n, "data": b"x" * _ROW_BYTES} for n in range(_ROWS)],
        )


def _rows_in_file(db_file: Path, tmp_path: Path) -> int:
    """How many rows the database file itself holds, its log left aside: a copy of the
    file alone is opened."""
    alone = tmp_path / "alone" / db_file.name
    alone.parent.mkdir(exist_ok=True)
    shutil.copyfile(db_file, alone)
    with sqlite3.connect(alone) as conn:
        found = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'blobs'").fetchone()[
            0
        ]
        return int(conn.execute("SELECT count(*) FROM blobs").fetchone()[0]) if found else 0


async def test_writes_reach_the_database_file_after_the_commit(tmp_path: Path) -> None:
    db_file = tmp_path / "tams.db"
    database = Database.connect(f"sqlite+aiosqlite:///{db_file}")
    try:
        await _write_a_lot(database)
        for _ in range(200):
            if _rows_in_file(db_file, tmp_path) == _ROWS:
                break
            await asyncio.sleep(0.05)
        assert _rows_in_file(db_file, tmp_path) == _ROWS
        # Readers see the rows as ever.
        async with database.read() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM blobs")) == _ROWS
    finally:
        await database.dispose()


async def test_a_commit_leaves_the_copying_to_the_checkpoint(tmp_path: Path) -> None:
    db_file = tmp_path / "tams.db"
    database = Database.connect(f"sqlite+aiosqlite:///{db_file}", checkpoint_after_s=60)
    try:
        await _write_a_lot(database)
        # Committed and readable, but only in the log: the commit did not checkpoint.
        async with database.read() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM blobs")) == _ROWS
        assert _rows_in_file(db_file, tmp_path) == 0
    finally:
        # The checkpoint still waiting is dropped, not waited for (60 s); SQLite
        # checkpoints as the last connection closes.
        await asyncio.wait_for(database.dispose(), 10)
    assert _rows_in_file(db_file, tmp_path) == _ROWS


async def test_writes_after_a_dispose_are_checkpointed_again(tmp_path: Path) -> None:
    db_file = tmp_path / "tams.db"
    database = Database.connect(f"sqlite+aiosqlite:///{db_file}")
    try:
        await _write_a_lot(database)
        await database.dispose()
        await _write_a_lot(database)  # the engines reconnect after a dispose
        for _ in range(200):
            if _rows_in_file(db_file, tmp_path) == 2 * _ROWS:
                break
            await asyncio.sleep(0.05)
        assert _rows_in_file(db_file, tmp_path) == 2 * _ROWS
    finally:
        await database.dispose()
