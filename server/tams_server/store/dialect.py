"""The few statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def insert_ignoring_conflicts(conn: AsyncConnection, table: Table, keys: Sequence[str]) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` for the connection's engine."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))


def upsert(
    conn: AsyncConnection, table: Table, keys: Sequence[str], updates: dict[str, object]
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET updates`` for the connection's engine."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_update(
            index_elements=list(keys), set_=updates
        )
    return sqlite.insert(table).on_conflict_do_update(index_elements=list(keys), set_=updates)


def among(column: ColumnElement[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values``; ``column = value`` for a single value. An IN list is
    expanded into the SQL text at every execution (about 0.2 ms here), which a read of
    one Flow or Source would pay twice for nothing."""
    if len(values) == 1:
        equal: ColumnElement[bool] = column == next(iter(values))
        return equal
    return column.in_(values)


def starts_with(column: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, alike on both engines: ``LIKE 'prefix%'`` with
    the prefix's ``%``, ``_`` and escape character escaped (so they match only
    themselves), and the first characters compared exactly too, because SQLite's
    ``LIKE`` ignores the case of ASCII letters and PostgreSQL's does not."""
    return and_(
        column.startswith(prefix, autoescape=True),
        func.substr(column, 1, len(prefix)) == prefix,
    )


def in_many(conn: AsyncConnection, column: ColumnElement[Any], values: Collection[str]) -> Any:
    """``column IN values`` for a batch of text values (a registration's Object ids),
    as one parameter: ``= ANY($1)`` on PostgreSQL, ``IN (SELECT value FROM
    json_each(?))`` on SQLite. An IN list of a thousand values is a thousand parameters
    expanded into the SQL at every execution and parsed by the database each time."""
    if conn.dialect.name == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(Text))
        return column == any_(array)
    ids = bindparam(None, json.dumps(list(values)), type_=Text)
    return column.in_(select(literal_column("value")).select_from(func.json_each(ids)))


def month_of_ns(conn: AsyncConnection, ns: ColumnElement[Any]) -> ColumnElement[str]:
    """The UTC month (``YYYY-MM``) of a time in nanoseconds since the Unix epoch."""
    seconds = ns // 1_000_000_000
    if conn.dialect.name == "postgresql":
        utc = func.timezone("UTC", func.to_timestamp(seconds))
        month: ColumnElement[str] = func.to_char(utc, "YYYY-MM", type_=Text)
        return month
    return func.strftime("%Y-%m", seconds, "unixepoch", type_=Text)
