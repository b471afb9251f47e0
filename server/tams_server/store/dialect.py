"""The few statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
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


def in_many_bound(dialect: str, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column IN values`` for a batch of text values (a registration's Object ids)
    as one bind parameter, ``name``, which ``many_values`` fills: ``= ANY($1)`` on
    PostgreSQL, ``IN (SELECT value FROM json_each(?))`` on SQLite. An IN list of a
    thousand values is a thousand parameters expanded into the SQL at every execution
    and parsed by the database each time. Build the statement once per engine."""
    if dialect == "postgresql":
        equal: ColumnElement[bool] = column == any_(bindparam(name, type_=postgresql.ARRAY(Text)))
        return equal
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(name))
    )
    return column.in_(listed)


def many_values(dialect: str, values: Collection[str]) -> list[str] | str:
    """The parameter of an ``in_many_bound`` clause: an array on PostgreSQL, a JSON
    array on SQLite."""
    if dialect == "postgresql":
        return list(values)
    return json.dumps(list(values))


def month_of_ns(conn: AsyncConnection, ns: ColumnElement[Any]) -> ColumnElement[str]:
    """The UTC month (``YYYY-MM``) of a time in nanoseconds since the Unix epoch."""
    seconds = ns // 1_000_000_000
    if conn.dialect.name == "postgresql":
        utc = func.timezone("UTC", func.to_timestamp(seconds))
        month: ColumnElement[str] = func.to_char(utc, "YYYY-MM", type_=Text)
        return month
    return func.strftime("%Y-%m", seconds, "unixepoch", type_=Text)
