"""Reference counting of Objects: deleting Segments hands the Objects they used to
the janitor (``background.ObjectJanitor``), which deletes the ones no Segment uses any
more, so bytes shared with another Flow stay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.store.clock import now_ns
from tams_server.store.schema import objects

_MARK_CHUNK = 2000


class Removed(NamedTuple):
    """How many Segments a deletion removed, from the start of the first to the end of
    the last (0, 0 when none)."""

    deleted: int
    start_ns: int
    end_ns: int


async def delete_segments_releasing(
    conn: AsyncConnection, table: Table, conditions: Sequence[ColumnElement[bool]]
) -> Removed:
    """Delete rows of ``table`` (live or soft-deleted Segments) and hand the Objects
    they used to the janitor, which deletes those no Segment uses any more (TAMS
    reference counting: bytes shared with another Flow stay)."""
    result = await conn.execute(
        delete(table)
        .where(*conditions)
        .returning(table.c.object_id, table.c.init_object_id, table.c.start_ns, table.c.end_ns)
    )
    used: set[str] = set()
    count = 0
    first = last = 0
    for object_id, init_object_id, start_ns, end_ns in result:
        first = start_ns if not count else min(first, start_ns)
        last = end_ns if not count else max(last, end_ns)
        count += 1
        used.add(object_id)
        if init_object_id is not None:
            used.add(init_object_id)
    await _check_soon(conn, sorted(used))
    return Removed(count, first, last)


async def _check_soon(conn: AsyncConnection, object_ids: Sequence[str]) -> None:
    """Let the janitor look at these Objects now: they expire at once, and the janitor
    keeps (and un-expires) those still in use."""
    now = now_ns()
    for i in range(0, len(object_ids), _MARK_CHUNK):
        chunk = object_ids[i : i + _MARK_CHUNK]
        if conn.dialect.name == "postgresql":
            # Lock in id order, as registration does, so the two never deadlock.
            await conn.execute(
                select(objects.c.id)
                .where(objects.c.id.in_(chunk))
                .order_by(objects.c.id)
                .with_for_update()
            )
        await conn.execute(
            update(objects)
            .where(objects.c.id.in_(chunk), objects.c.expires_ns.is_(None))
            .values(expires_ns=now)
        )
