"""The hot path for bulk reads: run a Core statement on the driver connection itself.

SQLAlchemy's result processing costs ~6 us per row here; a Segment stream reads
millions. The statement is still built and compiled by SQLAlchemy (one source of
truth for the SQL), then handed with its positional parameters to aiosqlite or
asyncpg inside the same transaction. Rows come back as plain tuples/Records with
driver types: JSON columns as text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Select, Table, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.errors import Aborted, Reason
from tams_server.store import sqlite_hops
from tams_server.store.engine import refuse_nul_text


async def fetch_all(
    conn: AsyncConnection, stmt: Select[Any], params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """Every row of ``stmt`` (whose bind parameters ``params`` fills), fetched by the
    driver without SQLAlchemy's processing. Build ``stmt`` once and reuse it: its
    compiled form is cached per engine."""
    sql, names, defaults = _compiled(stmt, conn.dialect)
    values = tuple(params[name] if name in params else defaults[name] for name in names)
    driver: Any = (await conn.get_raw_connection()).driver_connection
    if conn.dialect.name == "postgresql":
        rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *values)
        return rows
    refuse_nul_text([values])
    return await sqlite_hops.fetch_all(driver, sql, values)  # one hand-off, not three


async def fetch_packed(
    conn: AsyncConnection, stmt: Select[Any], params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """``fetch_all`` for a page of many rows: on SQLite the database packs the rows
    into one JSON array, read in a single step, which orjson unpacks (rows come back
    as lists, in the statement's order; text, integers and nulls only).

    Python's sqlite3 builds each row holding the GIL, and under a stream that GIL is
    the event loop's, busy writing the last page: the next page's read, meant to run
    meanwhile on the SQLite thread, waited for it row by row. Packed, the read runs
    without the GIL from start to end, and unpacking costs less than building the
    rows did."""
    if conn.dialect.name == "postgresql":
        return await fetch_all(conn, stmt, params)
    sql, names, defaults = _packed(stmt, conn.dialect)
    values = tuple(params[name] if name in params else defaults[name] for name in names)
    refuse_nul_text([values])
    driver: Any = (await conn.get_raw_connection()).driver_connection
    ((packed,),) = await sqlite_hops.fetch_all(driver, sql, values)
    rows: list[list[Any]] = orjson.loads(packed)
    return rows


async def execute_many_sqlite(
    conn: AsyncConnection, stmt: Select[Any] | Update, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``stmt`` once for each of ``rows`` (its bind parameters by name; JSON as text)
    on SQLite's driver directly: SQLAlchemy's executemany processes each row's
    parameters, which cost a registration of allocated Objects a third of its time."""
    sql, names, defaults = _compiled(stmt, conn.dialect)
    values = [tuple(row[n] if n in row else defaults[n] for n in names) for row in rows]
    refuse_nul_text(values)
    driver: Any = (await conn.get_raw_connection()).driver_connection
    await sqlite_hops.execute_many(driver, sql, values)


Compiled = tuple[str, tuple[str, ...], dict[str, Any]]
_COMPILED: dict[tuple[int, str], Compiled] = {}


def _compiled(stmt: Select[Any] | Update, dialect: Dialect) -> Compiled:
    """SQL text, positional parameter names and the values of the parameters
    SQLAlchemy adds itself (an OFFSET 0, say) of ``stmt`` for ``dialect``, compiled
    once (compiling costs about as much as reading a thousand rows)."""
    key = (id(stmt), dialect.name)
    if key not in _COMPILED:
        compiled = stmt.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        defaults = {name: bind.value for name, bind in compiled.binds.items()}
        _COMPILED[key] = (compiled.string, names, defaults)
    return _COMPILED[key]


_PACKED: dict[int, Compiled] = {}


def _packed(stmt: Select[Any], dialect: Dialect) -> Compiled:
    """``_compiled`` of ``stmt`` wrapped so that SQLite returns its rows as one JSON
    array of arrays. The aggregate reads the rows in the statement's order (its
    ORDER BY and LIMIT apply inside), as SQLite does for a subquery it does not
    flatten."""
    key = id(stmt)
    if key not in _PACKED:
        sql, names, defaults = _compiled(stmt, dialect)
        columns = ", ".join(f"c{i}" for i in range(len(stmt.selected_columns)))
        packed = (
            f"WITH page({columns}) AS ({sql}) SELECT json_group_array(json_array({columns})) "
            "FROM page"
        )
        _PACKED[key] = (packed, names, defaults)
    return _PACKED[key]


async def insert_rows(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in ``columns`` order; JSON as text) through the driver:
    COPY on PostgreSQL, executemany on SQLite. Table and column names come from the
    schema, never from a request. A constraint violation is ABORTED, as in
    ``Database.write``."""
    if not rows:
        return
    driver: Any = (await conn.get_raw_connection()).driver_connection
    try:
        if conn.dialect.name == "postgresql":
            await driver.copy_records_to_table(table.name, records=rows, columns=columns)
            return
        refuse_nul_text(rows)
        marks = ", ".join("?" * len(columns))
        await sqlite_hops.execute_many(
            driver, f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows
        )
    except (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError) as error:
        raise Aborted(
            "a concurrent change conflicted with this request; retry it",
            reason=Reason.CONCURRENT_CHANGE,
        ) from error
