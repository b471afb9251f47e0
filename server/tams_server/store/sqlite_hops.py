"""One hand-off to the SQLite thread per statement instead of four, none for BEGIN.

aiosqlite runs every call on its own thread, and each call is a hand-off: a queue put,
a thread wake-up, a loop wake-up on the way back. SQLAlchemy's aiosqlite adapter makes
four per statement (open a cursor, execute, fetch the rows, close the cursor), and
under load each costs more than the statement itself: a GetFlow made seventeen. The
cursor here does the four in one function on that thread, and keeps what SQLAlchemy
reads afterwards (rows, description, rowcount, lastrowid). A transaction's BEGIN waits
and goes with its first statement; a commit or rollback with no transaction open (an
autocommit read, the pool's reset) goes nowhere.

A statement may also skip the hand-off: ``run_next_inline`` makes the connection's
next statement run on the calling thread (the event loop's), for reads of a row or
two by key, where the hand-off costs more than the read: a GetFlow under 64
concurrent clients spent half its CPU on it (thread wake-ups, the loop's wake-up
pipe, the GIL changing hands). Such a read does not wait for writers in WAL mode, and
the log's checkpoints (PASSIVE) do not wait for it. The sqlite3 connection is then
used from two threads, one at a time (``check_same_thread=False``).

It is installed per connection, in the engine's ``connect`` event, by giving the
adapter's connection this subclass (no slots added), so nothing outside this engine
changes. It relies on aiosqlite's ``Connection._execute`` (queue a function for its
thread) and ``_conn`` (the sqlite3 connection, used on that thread only), as
SQLAlchemy's own adapter relies on aiosqlite's queue.
"""

from __future__ import annotations

import collections
import sqlite3
import weakref
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)

_Outcome = tuple[Any, list[Any] | None, int, int | None]


# What a transaction starts with (``store.engine``): held back, to run on the SQLite
# thread just before the transaction's first statement, in the same hand-off.
_BEGINS = frozenset({"BEGIN", "BEGIN IMMEDIATE"})
_held_begin: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
# The connections whose next statement runs on the calling thread.
_inline_next: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _run(
    conn: sqlite3.Connection, begin: str | None, sql: str, parameters: Any, many: bool
) -> _Outcome:
    """On the SQLite thread: the held-back BEGIN and the statement run, its rows read,
    its cursor closed."""
    cursor = conn.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _Done:
    """What SQLAlchemy reads of a cursor after its statement ran."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, description: Any = None, rowcount: int = -1, lastrowid: Any = None):
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.arraysize = 1

    async def close(self) -> None:
        """Closed on the SQLite thread already."""


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, each statement one hand-off."""

    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Done()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._run(operation, seq_of_parameters, many=True)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        driver: Any = self._connection
        inline = _inline_next.pop(driver, False)  # whatever runs: it is for this statement
        if not many and not parameters and operation in _BEGINS:
            _held_begin[driver] = operation
            return
        begin = _held_begin.pop(driver, None)
        mutex = self._adapt_connection._execute_mutex
        if inline and begin is None and not mutex.locked():
            outcome = _run(driver._conn, None, operation, parameters, many)
        else:
            async with mutex:
                outcome = await driver._execute(
                    _run, driver._conn, begin, operation, parameters, many
                )
        description, rows, rowcount, lastrowid = outcome
        self._cursor = _Done(description, rowcount, lastrowid)  # type: ignore[assignment]
        if rows is not None:
            self._rows = collections.deque(rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection, with ``OneHopCursor``."""

    __slots__ = ()

    _cursor_cls = OneHopCursor

    def commit(self) -> None:
        if self._open_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._open_transaction():
            super().rollback()

    def _open_transaction(self) -> bool:
        """Whether a transaction is open: a read without one (autocommit), a
        transaction whose BEGIN is still held back (no statement ran) and the pool's
        reset of a connection its unit of work ended cleanly need no hand-off. The
        sqlite3 connection is only read here, while no statement of this connection
        runs (they are awaited one at a time)."""
        _held_begin.pop(self._connection, None)
        conn: sqlite3.Connection | None = self._connection._connection
        return conn is not None and conn.in_transaction


def run_next_inline(driver: Any) -> None:
    """Run the next statement of the aiosqlite connection ``driver`` on the calling
    thread, unless it has a transaction's BEGIN to run first or another statement of
    the connection is under way (then it is handed off as ever)."""
    _inline_next[driver] = True


async def fetch_all(driver: Any, sql: str, parameters: Any) -> list[Any]:
    """The rows of one statement run on an aiosqlite connection directly (the raw read
    path), after the BEGIN held back for it, if any: one hand-off."""
    _description, rows, _count, _id = await driver._execute(
        _run, driver._conn, _held_begin.pop(driver, None), sql, parameters, False
    )
    return rows or []


async def execute_many(driver: Any, sql: str, rows: Any) -> None:
    """One statement for each of ``rows`` on an aiosqlite connection directly (the raw
    insert path), after the BEGIN held back for it, if any: one hand-off."""
    await driver._execute(_run, driver._conn, _held_begin.pop(driver, None), sql, rows, True)


def install(dbapi_connection: Any) -> None:
    """Give a new connection of the engine the one-hop cursor."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneHopConnection
