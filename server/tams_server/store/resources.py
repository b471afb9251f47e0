"""What the stores of Sources and Flows share: reading one row by id, and the
columns behind the fields of ``domain.models.Resource``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import Access, check_access, classes_of
from tams_server.domain.errors import NotFound
from tams_server.domain.queries import FlowQuery, SourceQuery
from tams_server.domain.tags import tags_from_json
from tams_server.store.paging import PageTokenCodec, fingerprint, read_page, tams_order


async def read_resource_page(
    conn: AsyncConnection,
    table: Table,
    query: SourceQuery | FlowQuery,
    where: Sequence[ColumnElement[bool]],
    *,
    date: ColumnElement[Any],
    tokens: PageTokenCodec,
    page_size: int,
    page_token: str,
) -> tuple[list[Row[Any]], str]:
    """One page of the Source or Flow rows that match ``where``, in the TAMS order the
    query asks for (by label, or by ``date``; then by id), and the next page's token."""
    sort = tams_order(
        label=table.c.label,
        date=date,
        unique=table.c.id,
        by_label=query.sort_by == "label",
        reverse=query.reverse_order,
    )
    return await read_page(
        conn,
        select(table).where(*where),
        sort,
        tokens=tokens,
        query_fingerprint=fingerprint(table.name, query),
        page_size=page_size,
        page_token=page_token,
    )


async def select_row(
    conn: AsyncConnection, table: Table, row_id: str, *, for_update: bool = False
) -> Row[Any] | None:
    """The row of ``table`` with that id, if any; ``for_update`` locks it (PostgreSQL;
    SQLite has one writer at a time anyway)."""
    stmt = select(table).where(table.c.id == row_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


def check_row_access(
    row: Row[Any],
    access: Access | None,
    *,
    write: bool,
    kind: str,
    not_found: Callable[[str], NotFound],
) -> None:
    """Refuse a caller the auth classes of a Source's or Flow's ``row`` keep from it:
    ``not_found`` of its id without any right, PERMISSION_DENIED for a ``write``
    without write access (``domain.access``)."""
    if access is not None:
        check_access(
            access, tags_from_json(row.tags), write=write, missing=not_found(row.id),
            kind=kind, item_id=row.id,
        )  # fmt: skip


def readable_row(row: Row[Any], access: Access | None) -> bool:
    """Whether the caller may see the Source or Flow of ``row`` by its auth classes."""
    return access is None or access.can_read(classes_of(tags_from_json(row.tags)))


CollectedBy = Callable[
    [AsyncConnection, Collection[str], Access | None], Awaitable[dict[str, tuple[str, ...]]]
]
"""Which collections name each of some ids, of those a caller may read
(``flow_collections.flows_collected_by``)."""


async def resource_fields(
    conn: AsyncConnection,
    rows: Sequence[Row[Any]],
    collected_by: CollectedBy,
    access: Access | None,
) -> list[dict[str, Any]]:
    """The ``Resource`` fields of each of ``rows`` (Sources or Flows), as keyword
    arguments, as the caller of ``access`` sees them."""
    collectors = await collected_by(conn, [row.id for row in rows], access)
    return fields_of(rows, collectors)


def fields_of(
    rows: Sequence[Row[Any]], collectors: Mapping[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    """The ``Resource`` fields of each of ``rows``, given what collects each of them
    (by id; none when absent)."""
    return [
        {
            "id": row.id,
            "label": row.label,
            "description": row.description,
            "created_by": row.created_by,
            "updated_by": row.updated_by,
            "tags": tags_from_json(row.tags),
            "created_ns": row.created_ns,
            "collected_by": collectors.get(row.id, ()),
            "deleted_ns": row.deleted_ns,
            "deleted_by": row.deleted_by,
        }
        for row in rows
    ]
