"""The copy of its Object's location that each live Segment keeps (``segments``'
``object_storage_id``, ``object_storage_key``, ``object_get_urls`` and
``object_extra_instances``), so that a listing with get_urls reads no Object row.

Whatever changes one of those columns of an Object changes the copies in the same
transaction: registration writes them with each new Segment (``places_of``) and
refreshes the Segments of Objects it gave new uncontrolled URLs; an instance change
refreshes its Object's (``refresh_places``). Both hold the Object's row: on
PostgreSQL registration reads it ``FOR UPDATE`` and an instance change locks it
first, so a copy is never taken from a location another transaction is changing."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.object_rules import ObjectState
from tams_server.store.schema import objects, segments

# The copied columns, in the order of ``Place``, and the Object columns they copy.
PLACE_COLUMNS = (
    "object_storage_id", "object_storage_key", "object_get_urls", "object_extra_instances",
)  # fmt: skip
_SOURCES = (
    objects.c.storage_id, objects.c.storage_key, objects.c.get_urls, objects.c.extra_instances
)  # fmt: skip

# (storage id, key, uncontrolled URLs as JSON text, count of further copies).
Place = tuple[str | None, str | None, str | None, int]


def places_of(states: Iterable[ObjectState]) -> dict[str, Place]:
    """Where each Object of a registration is once its changes are saved."""
    return {
        s.id: (
            s.storage_id,
            s.storage_key,
            orjson.dumps(s.get_urls).decode() if s.get_urls else None,
            s.extra_instances,
        )
        for s in states
    }


_REFRESH = (
    update(segments)
    .where(segments.c.object_id.in_(bindparam("ids", expanding=True)))
    .values(
        {
            name: select(source).where(objects.c.id == segments.c.object_id).scalar_subquery()
            for name, source in zip(PLACE_COLUMNS, _SOURCES, strict=True)
        }
    )
)


async def refresh_places(conn: AsyncConnection, object_ids: Collection[str]) -> None:
    """Copy the current location of each of ``object_ids`` onto the live Segments
    using it."""
    if object_ids:
        params: dict[str, Any] = {"ids": list(object_ids)}
        await conn.execute(_REFRESH, params)
