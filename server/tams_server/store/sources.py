"""Sources in the store: reads, listings and the writes TAMS allows on them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import Access, check_new_classes, classes_of
from tams_server.domain.errors import AlreadyExists, FailedPrecondition, NotFound, Reason
from tams_server.domain.events import FlowDeleted, SourceDeleted
from tams_server.domain.models import Source
from tams_server.domain.queries import Page, SourceQuery
from tams_server.domain.tags import TagEdit, tags_from_json, tags_to_json
from tams_server.store import flow_collections as collections
from tams_server.store.changes import SourceTouched, record
from tams_server.store.clock import now_ns
from tams_server.store.dialect import among, starts_with
from tams_server.store.engine import Database
from tams_server.store.paging import PageTokenCodec
from tams_server.store.resources import (
    check_row_access,
    read_resource_page,
    readable_row,
    resource_fields,
    select_row,
)
from tams_server.store.schema import flows, source_tags, sources
from tams_server.store.tags import readable_clause, replace_tag_rows, tag_filter_clauses

UPDATABLE_FIELDS = ("label", "description", "tags")


class SourceStore:
    """Use cases on Sources, each one transaction."""

    def __init__(self, database: Database, tokens: PageTokenCodec) -> None:
        self._db = database
        self._tokens = tokens

    async def get(
        self, source_id: str, *, show_deleted: bool = False, access: Access | None = None
    ) -> Source:
        """One Source; NOT_FOUND when unknown, (unless asked) soft-deleted, or hidden
        from the caller by its auth classes."""
        async with self._db.read() as conn:
            row = await select_row(conn, sources, source_id)
            if row is None or (row.deleted_ns is not None and not show_deleted):
                raise source_not_found(source_id)
            _check(row, access, write=False)
            return (await _load(conn, [row], access))[0]

    async def find(
        self, query: SourceQuery, *, page_size: int, page_token: str, access: Access | None = None
    ) -> Page[Source]:
        """One page of the Sources matching ``query`` that the caller may read."""
        date = sources.c.updated_ns if query.sort_by == "updated" else sources.c.created_ns
        where = _filters(query, access)
        if access is not None:
            where.append(readable_clause(source_tags, "source_id", sources.c.id, access))
        async with self._db.read() as conn:
            rows, token = await read_resource_page(
                conn, sources, query, where, date=date,
                tokens=self._tokens, page_size=page_size, page_token=page_token,
            )  # fmt: skip
            return Page(await _load(conn, rows, access), token, page_size)

    async def create(
        self, new_sources: Sequence[Source], *, actor: str | None, access: Access | None = None
    ) -> list[Source]:
        """Create Sources, all or none; ALREADY_EXISTS names the first id taken."""
        for source in new_sources:
            check_new_classes(access, source.tags, kind="source", item_id=source.id)
        now = now_ns()
        async with self._db.write() as conn:
            ids = [source.id for source in new_sources]
            taken = await conn.scalar(select(sources.c.id).where(sources.c.id.in_(ids)).limit(1))
            if taken is not None:
                raise AlreadyExists(
                    f"source {taken} already exists",
                    reason=Reason.SOURCE_ALREADY_EXISTS,
                    metadata={"sourceId": taken},
                )
            for source in new_sources:
                await insert_source(conn, source, actor=actor, now=now)
            rows = [await select_row(conn, sources, source_id) for source_id in ids]
            return await _load(conn, [row for row in rows if row is not None], access)

    async def update(
        self,
        source_id: str,
        changes: Mapping[str, Any],
        *,
        actor: str | None,
        access: Access | None = None,
    ) -> Source:
        """Set (or, with None, delete) the properties in ``changes``: any of
        ``label``, ``description``, ``tags``."""
        async with self._db.write() as conn:
            await self._live_row(conn, source_id, access)
            if "tags" in changes:
                tags = changes["tags"] or {}
                check_new_classes(access, tags, kind="source", item_id=source_id)
            await _apply(conn, source_id, dict(changes), actor=actor)
            return await self._reload(conn, source_id, access)

    async def edit_tag(
        self, source_id: str, edit: TagEdit, *, actor: str | None, access: Access | None = None
    ) -> Source:
        """Set or delete one tag; NOT_FOUND when the tag to delete is not there."""
        async with self._db.write() as conn:
            row = await self._live_row(conn, source_id, access)
            tags = edit.applied_to(tags_from_json(row.tags), owner="source", owner_id=source_id)
            check_new_classes(access, tags, kind="source", item_id=source_id)
            await _apply(conn, source_id, {"tags": tags}, actor=actor)
            return await self._reload(conn, source_id, access)

    async def soft_delete(
        self,
        source_id: str,
        *,
        deleted_by: str | None,
        with_flows: bool = False,
        access: Access | None = None,
    ) -> Source:
        """Hide a Source, recording who and when: one that no live Flow renders, or,
        ``with_flows``, with the live Flows that render it (hidden alike, in the same
        transaction: a Source goes with its Flows, TAMS ADR 0018), all or none."""
        async with self._db.write() as conn:
            row = await self._live_row(conn, source_id, access)
            rendering = (
                await conn.execute(
                    select(flows.c.id, flows.c.tags, flows.c.read_only, flows.c.source_id)
                    .where(flows.c.source_id == source_id, flows.c.deleted_ns.is_(None))
                    .order_by(flows.c.id)
                    .with_for_update()
                )
            ).all()
            if rendering and not with_flows:
                raise _has_flows(source_id, len(rendering) if access is None else None)
            now = now_ns()
            if rendering:
                _check_flows_deletable(source_id, rendering, access)
                await conn.execute(
                    update(flows)
                    .where(among(flows.c.id, [flow.id for flow in rendering]))
                    .values(deleted_ns=now, deleted_by=deleted_by)
                )
                for flow in rendering:
                    flow_classes = classes_of(tags_from_json(flow.tags))
                    record(conn, FlowDeleted(flow.id, source_id, flow_classes))
            await conn.execute(
                update(sources)
                .where(sources.c.id == source_id)
                .values(deleted_ns=now, deleted_by=deleted_by)
            )
            record(conn, SourceDeleted(source_id, classes_of(tags_from_json(row.tags))))
            return await self._reload(conn, source_id, access)

    async def _live_row(
        self, conn: AsyncConnection, source_id: str, access: Access | None
    ) -> Row[Any]:
        """The Source to change, locked; NOT_FOUND when gone, refused by its classes."""
        row = await select_row(conn, sources, source_id, for_update=True)
        if row is None or row.deleted_ns is not None:
            raise source_not_found(source_id)
        _check(row, access, write=True)
        return row

    async def _reload(self, conn: AsyncConnection, source_id: str, access: Access | None) -> Source:
        row = await select_row(conn, sources, source_id)
        assert row is not None
        return (await _load(conn, [row], access))[0]


def _check(row: Row[Any], access: Access | None, *, write: bool) -> None:
    check_row_access(row, access, write=write, kind="source", not_found=source_not_found)


def _check_flows_deletable(source_id: str, rendering: Sequence[Any], access: Access | None) -> None:
    """Refuse to hide a Source with its Flows unless the caller may delete each: a Flow
    it may not read refuses the whole as ``_has_flows`` does (naming none of them), a
    read-only one as any write to it is refused."""
    for flow in rendering:
        if not readable_row(flow, access):
            raise _has_flows(source_id, None)
        check_row_access(flow, access, write=True, kind="flow", not_found=_flow_not_found)
        if flow.read_only:
            raise FailedPrecondition(
                f"flow {flow.id} of source {source_id} is read-only; set read_only to false first",
                reason=Reason.FLOW_READ_ONLY,
                metadata={"flowId": flow.id, "sourceId": source_id},
            )


def _flow_not_found(flow_id: str) -> NotFound:
    return NotFound(
        f"flow {flow_id} not found", reason=Reason.FLOW_NOT_FOUND, metadata={"flowId": flow_id}
    )


def _has_flows(source_id: str, flow_count: int | None) -> FailedPrecondition:
    """The refusal to delete a Source some live Flows render. Their number counts the
    Flows a restricted caller may not read too, so it is told only to unrestricted
    callers (``flow_count`` None): a restricted one learns that Flows remain, which
    the refusal itself says, not how many it cannot see."""
    if flow_count is None:
        return FailedPrecondition(
            f"source {source_id} is still rendered by flows; delete them first",
            reason=Reason.SOURCE_HAS_FLOWS,
            metadata={"sourceId": source_id},
        )
    return FailedPrecondition(
        f"source {source_id} is still rendered by {flow_count} flow(s); delete them first",
        reason=Reason.SOURCE_HAS_FLOWS,
        metadata={"sourceId": source_id, "flowCount": str(flow_count)},
    )


def source_not_found(source_id: str) -> NotFound:
    """The NOT_FOUND error for an unknown Source."""
    return NotFound(
        f"source {source_id} not found",
        reason=Reason.SOURCE_NOT_FOUND,
        metadata={"sourceId": source_id},
    )


async def insert_source(
    conn: AsyncConnection, source: Source, *, actor: str | None, now: int
) -> None:
    """Insert one new Source row with its tag rows."""
    await conn.execute(
        insert(sources).values(
            id=source.id,
            format=source.format,
            label=source.label,
            description=source.description,
            created_by=source.created_by or actor,
            updated_by=source.updated_by or actor,
            tags=tags_to_json(source.tags),
            created_ns=now,
            updated_ns=now,
        )
    )
    await replace_tag_rows(conn, source_tags, "source_id", source.id, source.tags)
    record(conn, SourceTouched(source.id, created=True))


async def touch_source(conn: AsyncConnection, source_id: str, *, actor: str | None) -> None:
    """Record that a Source's metadata changed (also when its collections change)."""
    values: dict[str, Any] = {"updated_ns": now_ns()}
    if actor is not None:
        values["updated_by"] = actor
    await conn.execute(update(sources).where(sources.c.id == source_id).values(**values))
    record(conn, SourceTouched(source_id))


async def load_sources(conn: AsyncConnection, source_ids: Sequence[str]) -> dict[str, Source]:
    """The Sources of ``source_ids`` that exist, by id."""
    rows = (await conn.execute(select(sources).where(among(sources.c.id, source_ids)))).all()
    return {source.id: source for source in await _load(conn, rows, None)}


async def _apply(
    conn: AsyncConnection, source_id: str, changes: dict[str, Any], *, actor: str | None
) -> None:
    if "tags" in changes:
        tags = changes["tags"] or {}
        changes["tags"] = tags_to_json(tags)
        await replace_tag_rows(conn, source_tags, "source_id", source_id, tags)
    await conn.execute(update(sources).where(sources.c.id == source_id).values(**changes))
    await touch_source(conn, source_id, actor=actor)


async def _load(
    conn: AsyncConnection, rows: Sequence[Row[Any]], access: Access | None
) -> list[Source]:
    """The Sources of ``rows`` as the caller of ``access`` sees them (``collected_by``
    and ``source_collection`` name only what it may read)."""
    common = await resource_fields(conn, rows, collections.sources_collected_by, access)
    collection = await collections.source_collections(conn, [row.id for row in rows], access)
    return [
        Source(
            **fields,
            format=row.format,
            updated_ns=row.updated_ns,
            source_collection=collection.get(row.id, ()),
        )
        for row, fields in zip(rows, common, strict=True)
    ]


def _filters(query: SourceQuery, access: Access | None) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if not query.show_deleted:
        clauses.append(sources.c.deleted_ns.is_(None))
    if query.label is not None:
        clauses.append(sources.c.label == query.label)
    if query.label_prefix is not None:
        clauses.append(starts_with(sources.c.label, query.label_prefix))
    if query.format is not None:
        clauses.append(sources.c.format == query.format)
    clauses += tag_filter_clauses(source_tags, "source_id", sources.c.id, query.tags)
    collected = collections.source_collected_by_filter(
        sources.c.id, query.collected_by_ids, not_collected=query.not_collected, access=access
    )
    if collected is not None:
        clauses.append(collected)
    return clauses
