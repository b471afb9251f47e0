"""Connections to the metadata store and the one rule for transactions.

``Database.read()`` opens a short read transaction; ``Database.write()`` opens a write
transaction. On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` under a
process-wide lock, so writers queue instead of failing with "database is locked" and a
check-then-insert inside one write transaction cannot race (design decision 3). On
PostgreSQL writers run concurrently; the schema's constraints and row locks
(``SELECT ... FOR UPDATE``) keep them correct.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from tams_server.domain.errors import Aborted, InvalidArgument, Reason, Unavailable
from tams_server.store import sqlite_hops
from tams_server.store.wal_checkpoints import CHECKPOINT_AFTER_S, WalCheckpoints

_BEGIN_OPTION = "tams_sqlite_begin"
# SQLite: the statement runs on the calling thread (``sqlite_hops.run_next_inline``).
_INLINE_OPTION = "tams_sqlite_inline"
# Where a write transaction keeps what it records for its commit hook.
CHANGES_KEY = "tams_changes"
# PostgreSQL's deadlock_detected and serialization_failure: a lost race, retryable.
_RETRYABLE_STATES = frozenset({"40P01", "40001"})
# PostgreSQL's character_not_in_repertoire: text holding U+0000, which its text type
# cannot store or compare with.
_NUL_IN_TEXT = "22021"


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error, raised through SQLAlchemy or (on the raw read
    path) by the driver itself."""
    state = getattr(error, "sqlstate", None) or getattr(
        getattr(error, "orig", None), "sqlstate", None
    )
    return str(state) if state else None


def _text_refused() -> InvalidArgument:
    return InvalidArgument(
        "text must not contain NUL characters (U+0000)", reason=Reason.INVALID_TEXT
    )


class CommitHook(Protocol):
    """What sees each write transaction's recorded changes (the outbox)."""

    async def before_commit(self, conn: AsyncConnection, changes: list[Any]) -> None:
        """Write what the changes mean, last in their transaction."""

    def committed(self) -> None:
        """A transaction with changes committed."""


def _json_loads(text: str | bytes) -> Any:
    """JSON columns (tags, Objects' URL lists) decoded by orjson: a listing decodes one
    per row, and the standard library's decoder took a sixth of a PostgreSQL stream's
    time. What orjson refuses but the standard library wrote (NaN, Infinity) still
    reads back."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


# SQLite's page cache of the writer's connection, in KiB. SQLite's default (2 MiB)
# holds a few hundred Object rows: a registration of 1,000 allocated Objects reads and
# updates their rows, and in a store of 100,000 Objects went to the file for each
# page every time (server CPU per allocated Segment 59.5 -> 57 us). Readers keep the
# default: a connection's cache grows to its limit (a stream of a million Segments
# would fill any), and the readers' pool holds many.
WRITER_CACHE_KIB = 64 * 1024


# The most connections a process's pool opens (as needed), and keeps once opened: the
# pools used to keep 10 (SQLite's readers: 5) and open up to 20 (10) more for a busy
# moment, closed again as soon as they came back. Under 64 concurrent GetFlow clients,
# two PostgreSQL server processes opened 170-206 connections in 6 s, each a new
# PostgreSQL backend and asyncpg's setup queries, and the slowest calls waited for
# them: p99 640-750 ms, 20-40 times the median. As many connections as before, kept:
# 1-20 opened, p99 190-220 ms.
POSTGRESQL_POOL_SIZE = 30
SQLITE_READERS = 15
# How long a unit of work waits for a connection when all are busy.
POOL_TIMEOUT_S = 30.0


class Database:
    """The engine plus the transaction discipline every store module uses."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        writer: AsyncEngine | None = None,
        checkpoints: WalCheckpoints | None = None,
    ) -> None:
        self.engine = engine
        self.commit_hook: CommitHook | None = None
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._sqlite_write_lock = asyncio.Lock()
        # SQLite: write transactions take turns (the lock above), on a connection of
        # their own whose cache stays warm from one to the next.
        self._writer = writer or engine
        # SQLite: the log's checkpoints, when the writer does not make them itself.
        self._checkpoints = checkpoints

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine statements run on (SQLite: the readers', then the writer's),
        for what watches them all (metrics, tracing)."""
        return (self.engine,) if self._writer is self.engine else (self.engine, self._writer)

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        echo: bool = False,
        checkpoint_after_s: float = CHECKPOINT_AFTER_S,
        pool_size: int | None = None,
        pool_timeout_s: float = POOL_TIMEOUT_S,
    ) -> Database:
        """Create the engine for ``url`` (``sqlite+aiosqlite:///...`` or
        ``postgresql+asyncpg://...``); no connection is opened yet. SQLite: the log is
        checkpointed ``checkpoint_after_s`` after writes (``store.wal_checkpoints``).
        ``pool_size``: the most connections open at once (SQLite: for reads), opened
        as needed and then kept; default ``POSTGRESQL_POOL_SIZE``/``SQLITE_READERS``;
        a unit of work that waited ``pool_timeout_s`` for one fails with UNAVAILABLE."""
        options: dict[str, Any] = {
            "echo": echo, "json_deserializer": _json_loads, "pool_timeout": pool_timeout_s,
            # The connection given back last is taken first: the same few serve while
            # the load is light, their caches warm (SQLite's pages, asyncpg's prepared
            # statements), instead of each pooled connection in turn.
            "pool_use_lifo": True,
        }  # fmt: skip
        if not url.startswith("sqlite"):
            size = pool_size or POSTGRESQL_POOL_SIZE
            return cls(create_async_engine(url, pool_size=size, max_overflow=0, **options))
        busy_wait = {"timeout": 30}
        # Readers' connections also run inline reads on the event loop's thread.
        engine = create_async_engine(
            url,
            pool_size=pool_size or SQLITE_READERS,
            max_overflow=0,
            connect_args={**busy_wait, "check_same_thread": False},
            **options,
        )
        _configure_sqlite(engine)
        # One connection, and a spare or two should a cancelled write not have given
        # its own back yet.
        writer = create_async_engine(
            url, pool_size=1, max_overflow=2, connect_args=busy_wait, **options
        )
        _configure_sqlite(writer, cache_kib=WRITER_CACHE_KIB, checkpoints=False)
        checkpoints = WalCheckpoints(
            engine, autocommit={_BEGIN_OPTION: ""}, after_s=checkpoint_after_s
        )
        return cls(engine, writer=writer, checkpoints=checkpoints)

    @asynccontextmanager
    async def read(
        self, *, snapshot: bool = True, inline: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A read-only unit of work: one snapshot for all its statements. A single
        statement needs none: ``snapshot=False`` saves the BEGIN and COMMIT round
        trips (autocommit), which cost as much as reading a thousand rows.

        ``inline`` (with ``snapshot=False``): on SQLite the statements run on the
        event loop's thread, not handed to the connection's: only for reads of a
        few rows by key, never for one that may scan (it holds the loop meanwhile).
        """
        if inline and snapshot:
            raise ValueError("inline reads are single statements: snapshot=False")
        async with self._connected(self.engine) as conn:
            if not snapshot:
                options: dict[str, Any] = (
                    {_BEGIN_OPTION: "", _INLINE_OPTION: inline}
                    if self.is_sqlite
                    else {"isolation_level": "AUTOCOMMIT"}
                )
                conn = await conn.execution_options(**options)
            try:
                async with conn.begin():
                    yield conn
            except Exception as error:
                if _sqlstate(error) == _NUL_IN_TEXT:
                    raise _text_refused() from error
                raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write unit of work: commits on success, rolls back on any exception.

        What the work records with ``store.changes.record`` goes to the commit hook
        (the outbox) as the transaction's last statements, and the hook hears of the
        commit once it is done.

        A constraint violation here means a concurrent writer got in first (the use
        cases check the rules before writing); it becomes ABORTED, which a caller may
        retry.
        """
        changes: list[Any] = []
        try:
            async with self._transaction() as conn:
                # The pooled connection's dict, held here: once a cancelled call has
                # invalidated the connection, reading ``conn.info`` again raises
                # PendingRollbackError, which would hide the cancellation.
                info = conn.info
                info[CHANGES_KEY] = changes
                try:
                    yield conn
                    if changes and self.commit_hook is not None:
                        await self.commit_hook.before_commit(conn, changes)
                finally:
                    info.pop(CHANGES_KEY, None)
        except IntegrityError as error:
            raise Aborted(
                "a concurrent change conflicted with this request; retry it",
                reason=Reason.CONCURRENT_CHANGE,
            ) from error
        except DBAPIError as error:
            state = _sqlstate(error)
            if state == _NUL_IN_TEXT:
                raise _text_refused() from error
            # PostgreSQL breaks a deadlock (40P01) by failing one side: that side may
            # retry, as after any lost race.
            if state not in _RETRYABLE_STATES:
                raise
            raise Aborted(
                "a concurrent change conflicted with this request; retry it",
                reason=Reason.CONCURRENT_CHANGE,
            ) from error
        if self._checkpoints is not None:
            self._checkpoints.wrote()
        if changes and self.commit_hook is not None:
            self.commit_hook.committed()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: serialised on SQLite (design decision 3)."""
        if not self.is_sqlite:
            async with self._connected(self.engine) as conn, conn.begin():
                yield conn
            return
        async with self._sqlite_write_lock, self._connected(self._writer) as conn:
            conn = await conn.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def _connected(self, engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """A connection from ``engine``'s pool; UNAVAILABLE (DATABASE_BUSY) when none
        came free in time: the caller may retry, nothing was done."""
        try:
            conn = await engine.connect().start()
        except PoolTimeout as error:
            pool: Any = engine.pool  # a QueuePool: a size and a timeout
            raise Unavailable(
                f"all {pool.size()} database connections of this server process stayed "
                f"busy for {pool.timeout():g} s; retry later (or serve with a larger "
                "--database-pool-size)",
                reason=Reason.DATABASE_BUSY,
                metadata={"pool_size": str(pool.size())},
            ) from error
        try:
            yield conn
        finally:
            await asyncio.shield(conn.close())

    async def ping(self) -> None:
        """One trivial statement: raises when the database does not answer."""
        async with self.read(snapshot=False) as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection (after the log's checkpoint under way)."""
        if self._checkpoints is not None:
            await self._checkpoints.close()
        await self.engine.dispose()
        if self._writer is not self.engine:
            await self._writer.dispose()


def _configure_sqlite(
    engine: AsyncEngine, *, cache_kib: int | None = None, checkpoints: bool = True
) -> None:
    """Let SQLAlchemy, not the sqlite3 module, start transactions, and set pragmas
    (``cache_kib``: the page cache of each connection, when not SQLite's default;
    ``checkpoints=False``: its commits leave the log's checkpoints to
    ``WalCheckpoints``)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        sqlite_hops.install(dbapi_connection)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if cache_kib is not None:
            cursor.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        if not checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        begin = conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN")
        if begin:  # "" = autocommit: each statement is its own snapshot
            conn.exec_driver_sql(begin)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before_statement(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        # SQLite would store and compare text holding U+0000, which PostgreSQL refuses:
        # refused here too, so that both engines answer the same (INVALID_TEXT).
        rows = parameters if many else [parameters]
        refuse_nul_text(_values(row) for row in rows or ())
        if conn.get_execution_options().get(_INLINE_OPTION):
            sqlite_hops.run_next_inline(cursor._connection)


def _values(row: Any) -> Iterable[Any]:
    """The values of one row of statement parameters: a mapping, a sequence, or a
    single value (SQLAlchemy's "insertmanyvalues" batches, used for INSERT ...
    RETURNING of many rows, hand over one flat list of values)."""
    if isinstance(row, dict):
        return row.values()
    if isinstance(row, (list, tuple)):
        return row
    return [row]


def refuse_nul_text(rows: Iterable[Iterable[Any] | None]) -> None:
    """INVALID_TEXT when a value of ``rows`` is text holding U+0000 (checked before
    SQLite sees it; PostgreSQL refuses such text itself)."""
    for values in rows:  # plain loops: twice as fast as any() over a generator
        for value in values or ():
            if isinstance(value, str) and "\x00" in value:
                raise _text_refused()
