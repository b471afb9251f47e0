"""Flow collections and what follows from them: ``collected_by`` of Flows, and the
inferred ``source_collection``/``collected_by`` of Sources.

Only the Flow side is stored (``flow_collection_items``); the Source side is derived
on read, so it can never disagree with the Flows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.models import CollectionItem
from tams_server.store.schema import flow_collection_items as items
from tams_server.store.schema import flows


def _build_live_pairs() -> tuple[Select[Any], Any, Any]:
    """Collection rows joined to their collector and member Flows, both live."""
    collector, member = flows.alias("collector"), flows.alias("member")
    query = (
        select()
        .select_from(items)
        .join(collector, collector.c.id == items.c.collector_id)
        .join(member, member.c.id == items.c.member_id)
        .where(collector.c.deleted_ns.is_(None), member.c.deleted_ns.is_(None))
    )
    return query, collector, member


# Built once: these queries run for every page of every listing, and building the
# aliased joins anew each time costs more than running them.
_LIVE_PAIRS = _build_live_pairs()


def _live_pairs() -> tuple[Select[Any], Any, Any]:
    return _LIVE_PAIRS


async def replace_flow_collection(
    conn: AsyncConnection, collector_id: str, collection: Sequence[CollectionItem]
) -> None:
    """Store ``collection`` as the ordered members of ``collector_id``."""
    await conn.execute(delete(items).where(items.c.collector_id == collector_id))
    if collection:
        await conn.execute(
            insert(items),
            [
                {
                    "collector_id": collector_id,
                    "position": position,
                    "member_id": item.id,
                    "role": item.role,
                    "container_mapping": item.container_mapping,
                }
                for position, item in enumerate(collection)
            ],
        )


async def flow_collections(
    conn: AsyncConnection, flow_ids: Collection[str]
) -> dict[str, tuple[CollectionItem, ...]]:
    """The ordered collection of each Flow in ``flow_ids``."""
    if not flow_ids:
        return {}
    rows = await conn.execute(
        select(items.c.collector_id, items.c.member_id, items.c.role, items.c.container_mapping)
        .where(items.c.collector_id.in_(flow_ids))
        .order_by(items.c.collector_id, items.c.position)
    )
    result: dict[str, list[CollectionItem]] = defaultdict(list)
    for collector_id, member_id, role, mapping in rows:
        result[collector_id].append(CollectionItem(member_id, role, mapping))
    return {key: tuple(value) for key, value in result.items()}


async def flows_collected_by(
    conn: AsyncConnection, flow_ids: Collection[str]
) -> dict[str, tuple[str, ...]]:
    """For each Flow in ``flow_ids``, the live Flows that collect it."""
    return await _collected_by(conn, items.c.member_id, items.c.collector_id, flow_ids)


async def source_collections(
    conn: AsyncConnection, source_ids: Collection[str]
) -> dict[str, tuple[CollectionItem, ...]]:
    """For each Source, the Sources of the members of its Flows' collections, in the
    order the collections give (first mention wins)."""
    if not source_ids:
        return {}
    query, collector, member = _live_pairs()
    rows = await conn.execute(
        query.add_columns(collector.c.source_id, member.c.source_id, items.c.role)
        .where(collector.c.source_id.in_(source_ids))
        .order_by(collector.c.source_id, collector.c.created_ns, collector.c.id, items.c.position)
    )
    result: dict[str, dict[str, CollectionItem]] = defaultdict(dict)
    for owner, member_source, role in rows:
        result[owner].setdefault(member_source, CollectionItem(member_source, role))
    return {owner: tuple(members.values()) for owner, members in result.items()}


async def sources_collected_by(
    conn: AsyncConnection, source_ids: Collection[str]
) -> dict[str, tuple[str, ...]]:
    """For each Source, the Sources whose Flows collect one of its Flows."""
    _query, collector, member = _live_pairs()
    return await _collected_by(conn, member.c.source_id, collector.c.source_id, source_ids)


async def _collected_by(
    conn: AsyncConnection,
    collected: ColumnElement[Any],
    collecting: ColumnElement[Any],
    ids: Collection[str],
) -> dict[str, tuple[str, ...]]:
    """For each of ``ids`` (values of ``collected``, a column of the live collection
    pairs), the distinct values of ``collecting`` next to it, oldest collector first."""
    if not ids:
        return {}
    query, collector, _member = _live_pairs()
    rows = await conn.execute(
        query.add_columns(collected, collecting)
        .where(collected.in_(ids))
        .order_by(collected, collector.c.created_ns, collector.c.id)
    )
    result: dict[str, dict[str, None]] = defaultdict(dict)
    for key, value in rows:
        result[key][value] = None
    return {key: tuple(values) for key, values in result.items()}


def flow_collected_by_filter(
    flow_id: ColumnElement[Any], collector_ids: Sequence[str], *, not_collected: bool
) -> ColumnElement[bool] | None:
    """TAMS ``collected_by_ids`` on /flows: collected by any of these, or (empty list
    given) collected by none."""
    if collector_ids:
        return exists(
            select(1).where(items.c.member_id == flow_id, items.c.collector_id.in_(collector_ids))
        )
    if not_collected:
        return ~exists(select(1).where(items.c.member_id == flow_id))
    return None


def source_collected_by_filter(
    source_id: ColumnElement[Any], collector_ids: Sequence[str], *, not_collected: bool
) -> ColumnElement[bool] | None:
    """TAMS ``collected_by_ids`` on /sources, through the Sources' Flows."""
    if not collector_ids and not not_collected:
        return None
    query, collector, member = _live_pairs()
    condition = member.c.source_id == source_id
    if collector_ids:
        return exists(
            query.add_columns(1).where(and_(condition, collector.c.source_id.in_(collector_ids)))
        )
    return ~exists(query.add_columns(1).where(condition))
