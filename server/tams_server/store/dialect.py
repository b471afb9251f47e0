"""The few statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Insert, Table
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
