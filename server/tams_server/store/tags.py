"""Tag side tables: keeping them in step with the resource, and filtering on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import AUTH_CLASSES_TAG, Access
from tams_server.domain.tags import TagFilter, Tags, tag_rows


async def replace_tag_rows(
    conn: AsyncConnection, table: Table, owner_column: str, owner_id: str, tags: Tags
) -> None:
    """Make the side table hold exactly the rows of ``tags`` for ``owner_id``."""
    await conn.execute(delete(table).where(table.c[owner_column] == owner_id))
    rows = [
        {owner_column: owner_id, "name": name, "value": value} for name, value in tag_rows(tags)
    ]
    if rows:
        await conn.execute(insert(table), rows)


def tag_filter_clauses(
    table: Table,
    owner_column: str,
    owner_id: ColumnElement[Any],
    filters: Sequence[TagFilter],
) -> list[ColumnElement[bool]]:
    """WHERE clauses for TAMS ``tag.{name}=a,b`` and ``tag_exists.{name}`` filters."""
    clauses: list[ColumnElement[bool]] = []
    for tag_filter in filters:
        same_tag = select(1).where(
            table.c[owner_column] == owner_id, table.c.name == tag_filter.name
        )
        if tag_filter.values:
            clauses.append(exists(same_tag.where(table.c.value.in_(tag_filter.values))))
        if tag_filter.exists is True:
            clauses.append(exists(same_tag))
        elif tag_filter.exists is False:
            clauses.append(~exists(same_tag))
    return clauses


def readable_clause(
    table: Table, owner_column: str, owner_id: ColumnElement[Any], access: Access
) -> ColumnElement[bool]:
    """WHERE clause of the resources ``access`` may read: those with no auth class (no
    ``auth_classes`` row with a value) and those sharing one with the caller's read
    classes (``domain.access``), so listings filter in the query and pages stay full.

    The subqueries are uncorrelated: the database computes each set once per query
    instead of probing the side table for every candidate row."""
    owner = table.c[owner_column]
    classed = select(owner).where(table.c.name == AUTH_CLASSES_TAG, table.c.value.is_not(None))
    unclassed = owner_id.not_in(classed)
    if not access.read_classes:
        return unclassed
    return unclassed | owner_id.in_(classed.where(table.c.value.in_(access.read_classes)))
