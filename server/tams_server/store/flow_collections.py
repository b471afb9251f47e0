"""Flow collections and what follows from them: ``collected_by`` of Flows, and the
inferred ``source_collection``/``collected_by`` of Sources.

Only the Flow side is stored (``flow_collection_items``); the Source side is derived
on read, so it can never disagree with the Flows.

A caller restricted by ``auth_classes`` (``domain.access``) sees these fields and
filters as if the Flows and Sources it may not read did not exist: their ids are left
out, in the query, and a Source's inferred links are derived only through Flows it may
read (a link through a hidden Flow would tell of that Flow).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import Access
from tams_server.domain.models import CollectionItem
from tams_server.store.dialect import among
from tams_server.store.schema import flow_collection_items as items
from tams_server.store.schema import flow_tags, flows, source_tags
from tams_server.store.tags import readable_clause


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


def _live_pairs(access: Access | None = None) -> tuple[Select[Any], Any, Any]:
    """The live collection pairs; with ``access``, only those whose collector and
    member Flows the caller may read."""
    if access is None:
        return _LIVE_PAIRS
    query, collector, member = _LIVE_PAIRS
    query = query.where(_readable_flow(collector.c.id, access), _readable_flow(member.c.id, access))
    return query, collector, member


def _readable_flow(flow_id: ColumnElement[Any], access: Access) -> ColumnElement[bool]:
    return readable_clause(flow_tags, "flow_id", flow_id, access)


def _readable_source(source_id: ColumnElement[Any], access: Access) -> ColumnElement[bool]:
    return readable_clause(source_tags, "source_id", source_id, access)


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


def membership_flags(flow_id: ColumnElement[Any]) -> tuple[ColumnElement[bool], ...]:
    """Two columns for a query of Flows: ``has_collection`` (it collects Flows) and
    ``is_collected`` (some Flow collects it). Both false, its ``flow_collection`` and
    ``collected_by`` are empty without reading them; true, they may still be (deleted
    or hidden Flows), which ``flow_collections`` and ``flows_collected_by`` tell."""
    return (
        exists().where(items.c.collector_id == flow_id).label("has_collection"),
        exists().where(items.c.member_id == flow_id).label("is_collected"),
    )


async def flow_collections(
    conn: AsyncConnection, flow_ids: Collection[str], access: Access | None
) -> dict[str, tuple[CollectionItem, ...]]:
    """The ordered collection of each Flow in ``flow_ids``, of the members the caller
    may read."""
    if not flow_ids:
        return {}
    stmt = select(
        items.c.collector_id, items.c.member_id, items.c.role, items.c.container_mapping
    ).where(among(items.c.collector_id, flow_ids))
    if access is not None:
        stmt = stmt.where(_readable_flow(items.c.member_id, access))
    rows = await conn.execute(stmt.order_by(items.c.collector_id, items.c.position))
    result: dict[str, list[CollectionItem]] = defaultdict(list)
    for collector_id, member_id, role, mapping in rows:
        result[collector_id].append(CollectionItem(member_id, role, mapping))
    return {key: tuple(value) for key, value in result.items()}


async def hidden_members(
    conn: AsyncConnection, collector_id: str, access: Access | None
) -> tuple[CollectionItem, ...]:
    """The members of a Flow's collection that the caller of ``access`` may not read,
    in order (none for an unrestricted caller)."""
    if access is None:
        return ()
    rows = await conn.execute(
        select(items.c.member_id, items.c.role, items.c.container_mapping)
        .where(items.c.collector_id == collector_id, ~_readable_flow(items.c.member_id, access))
        .order_by(items.c.position)
    )
    return tuple(CollectionItem(member_id, role, mapping) for member_id, role, mapping in rows)


async def flows_collected_by(
    conn: AsyncConnection, flow_ids: Collection[str], access: Access | None
) -> dict[str, tuple[str, ...]]:
    """For each Flow in ``flow_ids``, the live Flows that collect it (that the caller
    may read)."""
    query, collector, _member = _live_pairs(access)
    return await _collected_by(conn, query, items.c.member_id, collector.c.id, flow_ids)


async def source_collections(
    conn: AsyncConnection, source_ids: Collection[str], access: Access | None
) -> dict[str, tuple[CollectionItem, ...]]:
    """For each Source, the Sources of the members of its Flows' collections, in the
    order the collections give (first mention wins); for a restricted caller, through
    the Flows it may read, to the Sources it may read."""
    if not source_ids:
        return {}
    query, collector, member = _live_pairs(access)
    if access is not None:
        query = query.where(_readable_source(member.c.source_id, access))
    rows = await conn.execute(
        query.add_columns(collector.c.source_id, member.c.source_id, items.c.role)
        .where(among(collector.c.source_id, source_ids))
        .order_by(collector.c.source_id, collector.c.created_ns, collector.c.id, items.c.position)
    )
    result: dict[str, dict[str, CollectionItem]] = defaultdict(dict)
    for owner, member_source, role in rows:
        result[owner].setdefault(member_source, CollectionItem(member_source, role))
    return {owner: tuple(members.values()) for owner, members in result.items()}


async def sources_collected_by(
    conn: AsyncConnection, source_ids: Collection[str], access: Access | None
) -> dict[str, tuple[str, ...]]:
    """For each Source, the Sources whose Flows collect one of its Flows; for a
    restricted caller, through the Flows it may read, from the Sources it may read."""
    query, collector, member = _live_pairs(access)
    if access is not None:
        query = query.where(_readable_source(collector.c.source_id, access))
    return await _collected_by(conn, query, member.c.source_id, collector.c.source_id, source_ids)


async def _collected_by(
    conn: AsyncConnection,
    query: Select[Any],
    collected: ColumnElement[Any],
    collecting: ColumnElement[Any],
    ids: Collection[str],
) -> dict[str, tuple[str, ...]]:
    """For each of ``ids`` (values of ``collected``, a column of the collection pairs
    ``query`` selects, from ``_live_pairs``), the distinct values of ``collecting``
    next to it, oldest collector first."""
    if not ids:
        return {}
    _pairs, collector, _member = _LIVE_PAIRS
    rows = await conn.execute(
        query.add_columns(collected, collecting)
        .where(among(collected, ids))
        .order_by(collected, collector.c.created_ns, collector.c.id)
    )
    result: dict[str, dict[str, None]] = defaultdict(dict)
    for key, value in rows:
        result[key][value] = None
    return {key: tuple(values) for key, values in result.items()}


def flow_collected_by_filter(
    flow_id: ColumnElement[Any],
    collector_ids: Sequence[str],
    *,
    not_collected: bool,
    access: Access | None,
) -> ColumnElement[bool] | None:
    """TAMS ``collected_by_ids`` on /flows: collected by any of these, or (empty list
    given) collected by none; for a restricted caller, by those it may read."""
    collecting = select(1).where(items.c.member_id == flow_id)
    if access is not None:
        collecting = collecting.where(_readable_flow(items.c.collector_id, access))
    if collector_ids:
        return exists(collecting.where(items.c.collector_id.in_(collector_ids)))
    if not_collected:
        return ~exists(collecting)
    return None


def source_collected_by_filter(
    source_id: ColumnElement[Any],
    collector_ids: Sequence[str],
    *,
    not_collected: bool,
    access: Access | None,
) -> ColumnElement[bool] | None:
    """TAMS ``collected_by_ids`` on /sources, through the Sources' Flows; for a
    restricted caller, as its ``collected_by`` shows them (``sources_collected_by``)."""
    if not collector_ids and not not_collected:
        return None
    query, collector, member = _live_pairs(access)
    if access is not None:
        query = query.where(_readable_source(collector.c.source_id, access))
    condition = member.c.source_id == source_id
    if collector_ids:
        return exists(
            query.add_columns(1).where(and_(condition, collector.c.source_id.in_(collector_ids)))
        )
    return ~exists(query.add_columns(1).where(condition))
