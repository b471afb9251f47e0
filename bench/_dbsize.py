"""How much disk a benchmark's database takes: per table and in all.

PostgreSQL is asked directly (``pg_total_relation_size``: table, indexes and TOAST;
``pg_database_size``); SQLite is one file (plus its WAL), so only the whole is known.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

_TABLES = """
    SELECT relname, pg_total_relation_size(relid) AS bytes
    FROM pg_catalog.pg_statio_user_tables ORDER BY bytes DESC
"""


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL (``postgresql+asyncpg://``) as asyncpg takes it."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


async def postgresql_sizes(url: str) -> tuple[dict[str, int], int]:
    """Bytes of each user table (with its indexes) and of the whole database."""
    conn = await asyncpg.connect(_libpq_url(url))
    try:
        tables = {row["relname"]: int(row["bytes"]) for row in await conn.fetch(_TABLES)}
        database = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()
    return tables, database


def sqlite_size(path: Path) -> int:
    """Bytes of a SQLite database file and its write-ahead log."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
