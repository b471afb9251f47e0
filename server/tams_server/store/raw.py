"""The hot path for bulk reads: run a Core statement on the driver connection itself.

SQLAlchemy's result processing costs ~6 us per row here; a Segment stream reads
millions. The statement is still built and compiled by SQLAlchemy (one source of
truth for the SQL), then handed with its positional parameters to aiosqlite or
asyncpg inside the same transaction. Rows come back as plain tuples/Records with
driver types: JSON columns as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection


async def fetch_all(conn: AsyncConnection, stmt: Select[Any]) -> Sequence[Sequence[Any]]:
    """Every row of ``stmt``, fetched by the driver without SQLAlchemy's processing."""
    compiled = stmt.compile(conn.sync_connection)
    params = compiled.construct_params()
    values = tuple(params[name] for name in compiled.positiontup or ())
    driver: Any = (await conn.get_raw_connection()).driver_connection
    if conn.dialect.name == "postgresql":
        rows: Sequence[Sequence[Any]] = await driver.fetch(compiled.string, *values)
        return rows
    cursor = await driver.execute(compiled.string, values)
    try:
        return list(await cursor.fetchall())
    finally:
        await cursor.close()
