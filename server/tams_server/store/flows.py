"""Flows in the store: whole-Flow create/replace, single-property changes, listings,
deletion. Each public method is one transaction."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import Access, check_new_classes, classes_of
from tams_server.domain.errors import Aborted, AlreadyExists, FailedPrecondition, NotFound, Reason
from tams_server.domain.events import FlowDeleted
from tams_server.domain.flows import essence_summary, with_technical_metadata
from tams_server.domain.models import CollectionItem, Flow, FlowDeleteRequest
from tams_server.domain.queries import FlowQuery, Page
from tams_server.domain.tags import TagEdit, tags_from_json, tags_to_json
from tams_server.domain.tags import tag_rows as tag_rows_of
from tams_server.domain.timerange import INT64_MAX, INT64_MIN, format_timerange, from_bounds
from tams_server.store import flow_collections as collections
from tams_server.store.changes import FlowTouched, SourceTouched, record
from tams_server.store.clock import now_ns
from tams_server.store.deletions import count_covered, create_request, delete_flow_now
from tams_server.store.dialect import among, insert_ignoring_conflicts, starts_with
from tams_server.store.engine import Database
from tams_server.store.paging import PageTokenCodec
from tams_server.store.profiles import load_profile
from tams_server.store.resources import (
    check_row_access,
    fields_of,
    read_resource_page,
    readable_row,
    resource_fields,
    select_row,
)
from tams_server.store.schema import flow_tags, flows, sources
from tams_server.store.sources import source_not_found, touch_source
from tams_server.store.tags import readable_clause, replace_tag_rows, tag_filter_clauses

PutMode = Literal["create", "replace", "upsert"]

UPDATABLE_FIELDS = (
    "label",
    "description",
    "tags",
    "read_only",
    "max_bit_rate",
    "avg_bit_rate",
    "flow_collection",
    "status",
    "metadata_version",
)

# The Flow's own fields that a column of the same name holds as they are, written
# from a Flow and read back into one.
_AS_STORED = (
    "source_id",
    "format",
    "codec",
    "container",
    "generation",
    "status",
    "read_only",
    "max_bit_rate",
    "avg_bit_rate",
    "profile_id",
    "segment_duration",
    "container_mapping",
    "essence_parameters",
)

# One Flow by id and whether it is in a collection (``FlowStore.get``); built once.
_ROW_WITH_FLAGS = select(flows, *collections.membership_flags(flows.c.id)).where(
    flows.c.id == bindparam("flow_id")
)

# Fields the server manages, ignored when comparing what a client sent.
_SERVER_MANAGED = (
    "created_ns",
    "metadata_updated_ns",
    "segments_updated_ns",
    "collected_by",
    "timerange",
    "deleted_ns",
    "deleted_by",
    "created_by",
    "updated_by",
    "metadata_version",
)


class FlowStore:
    """Use cases on Flows, each one transaction."""

    def __init__(
        self, database: Database, tokens: PageTokenCodec, *, inline_delete_limit: int = 10_000
    ) -> None:
        self._db = database
        self._tokens = tokens
        self._inline_limit = inline_delete_limit

    async def get(
        self,
        flow_id: str,
        *,
        include_timerange: bool = False,
        show_deleted: bool = False,
        access: Access | None = None,
    ) -> Flow:
        """One Flow; NOT_FOUND when unknown, (unless asked) soft-deleted, or hidden
        from the caller by its auth classes."""
        # Most Flows are in no collection: then one statement (its own snapshot, no
        # transaction, by key: inline) reads all there is; else all is read again in
        # one snapshot.
        async with self._db.read(snapshot=False, inline=True) as conn:
            row = (await conn.execute(_ROW_WITH_FLAGS, {"flow_id": flow_id})).first()
        if row is None or (row.deleted_ns is not None and not show_deleted):
            raise flow_not_found(flow_id)
        _check(row, access, write=False)
        if not (row.has_collection or row.is_collected):
            return _built([row], fields_of([row], {}), {}, include_timerange=include_timerange)[0]
        async with self._db.read() as conn:
            row = await select_row(conn, flows, flow_id)
            if row is None or (row.deleted_ns is not None and not show_deleted):
                raise flow_not_found(flow_id)
            _check(row, access, write=False)
            return (await _load(conn, [row], include_timerange=include_timerange, access=access))[0]

    async def check_writable(self, flow_id: str, access: Access | None) -> None:
        """Refuse a caller ``access`` keeps from writing to the Flow (NOT_FOUND or
        PERMISSION_DENIED), before work on its behalf elsewhere; without an access to
        check, nothing is read. A missing Flow is left to that work to report."""
        if access is None:
            return
        async with self._db.read() as conn:
            row = await select_row(conn, flows, flow_id)
            if row is not None:
                _check(row, access, write=True)

    async def find(
        self, query: FlowQuery, *, page_size: int, page_token: str, access: Access | None = None
    ) -> Page[Flow]:
        """One page of the Flows matching ``query`` that the caller may read."""
        by_metadata = query.sort_by == "metadata_updated"
        date = flows.c.metadata_updated_ns if by_metadata else flows.c.created_ns
        where = _filters(query, access)
        if access is not None:
            where.append(readable_clause(flow_tags, "flow_id", flows.c.id, access))
        async with self._db.read() as conn:
            rows, token = await read_resource_page(
                conn, flows, query, where, date=date,
                tokens=self._tokens, page_size=page_size, page_token=page_token,
            )  # fmt: skip
            loaded = await _load(conn, rows, include_timerange=False, access=access)
            return Page(loaded, token, page_size)

    async def put(
        self, flow: Flow, *, mode: PutMode, actor: str | None, access: Access | None = None
    ) -> tuple[Flow, bool]:
        """Create and/or replace a whole Flow; True when it was created.

        ``create`` refuses an existing id, ``replace`` a missing one, ``upsert`` neither
        (TAMS PUT). The Source is created when new and must share the Flow's format.
        """
        for attempt in range(2):
            try:
                async with self._db.write() as conn:
                    created = await self._put(
                        conn, flow, mode=mode, actor=actor, now=now_ns(), access=access
                    )
                    return await _reload(conn, flow.id, access), created
            except Aborted:
                # Another PUT created the same id between our check and our insert;
                # once more, this time as a replace (or ALREADY_EXISTS for a create).
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def create_many(
        self, new_flows: Sequence[Flow], *, actor: str | None, access: Access | None = None
    ) -> list[Flow]:
        """Create several Flows, all or none, with a fixed number of statements
        whatever the batch size."""
        for flow in new_flows:
            check_new_classes(access, flow.tags, kind="flow", item_id=flow.id)
        now = now_ns()
        ids = [flow.id for flow in new_flows]
        async with self._db.write() as conn:
            new_flows = await _with_profiles(conn, new_flows)
            taken: Any = (
                await conn.execute(
                    select(flows.c.id, flows.c.deleted_ns, flows.c.tags)
                    .where(flows.c.id.in_(ids))
                    .limit(1)
                )
            ).first()
            if taken is not None:
                # A hidden Flow's id is taken too, but whether it is soft-deleted is
                # its own business.
                if taken.deleted_ns is not None and readable_row(taken, access):
                    raise _flow_deleted(taken.id)
                raise _flow_exists(taken.id)
            await _ensure_sources(conn, new_flows, actor=actor, now=now, access=access)
            await conn.execute(
                insert(flows), [_new_row_values(flow, actor=actor, now=now) for flow in new_flows]
            )
            tag_rows = [
                {"flow_id": flow.id, "name": name, "value": value}
                for flow in new_flows
                for name, value in tag_rows_of(flow.tags)
            ]
            if tag_rows:
                await conn.execute(insert(flow_tags), tag_rows)
            record(conn, *(FlowTouched(flow_id, created=True) for flow_id in ids))
            await _check_members(conn, new_flows, access)
            for flow in new_flows:
                if flow.flow_collection:
                    await collections.replace_flow_collection(conn, flow.id, flow.flow_collection)
            rows = (await conn.execute(select(flows).where(flows.c.id.in_(ids)))).all()
            loaded = {
                flow.id: flow
                for flow in await _load(conn, rows, include_timerange=False, access=access)
            }
            return [loaded[flow_id] for flow_id in ids]

    async def update(
        self,
        flow_id: str,
        changes: Mapping[str, Any],
        *,
        actor: str | None,
        access: Access | None = None,
    ) -> Flow:
        """Set (or, with None, delete) the properties in ``changes``."""
        async with self._db.write() as conn:
            row = await _live_row(conn, flow_id, access)
            if "tags" in changes:
                check_new_classes(access, changes["tags"] or {}, kind="flow", item_id=flow_id)
            if row.read_only and set(changes) != {"read_only"}:
                raise flow_read_only(flow_id)
            if row.profile_id and "avg_bit_rate" in changes:
                raise FailedPrecondition(
                    f"flow {flow_id} takes avg_bit_rate from profile {row.profile_id}",
                    reason=Reason.FLOW_HAS_PROFILE,
                    metadata={"flowId": flow_id, "profileId": row.profile_id},
                )
            await self._apply(conn, row, dict(changes), actor=actor, access=access)
            return await _reload(conn, flow_id, access)

    async def edit_tag(
        self, flow_id: str, edit: TagEdit, *, actor: str | None, access: Access | None = None
    ) -> Flow:
        """Set or delete one tag; NOT_FOUND when the tag to delete is not there."""
        async with self._db.write() as conn:
            row = await _writable_row(conn, flow_id, access)
            tags = edit.applied_to(tags_from_json(row.tags), owner="flow", owner_id=flow_id)
            check_new_classes(access, tags, kind="flow", item_id=flow_id)
            await self._apply(conn, row, {"tags": tags}, actor=actor, access=access)
            return await _reload(conn, flow_id, access)

    async def delete(
        self, flow_id: str, *, soft: bool, deleted_by: str | None, access: Access | None = None
    ) -> FlowDeleteRequest | None:
        """Delete a Flow: softly (hidden, kept), or for good with its Segments and a
        Source left with no Flow (TAMS: Sources live as long as their Flows). A Flow
        with more Segments than the inline limit is hidden at once and removed by a
        flow delete request in the background."""
        async with self._db.write() as conn:
            row = await _writable_row(conn, flow_id, access)
            record(conn, FlowDeleted(flow_id, row.source_id, _classes(row)))
            hide = update(flows).where(flows.c.id == flow_id)
            if soft:
                await conn.execute(hide.values(deleted_ns=now_ns(), deleted_by=deleted_by))
                return None
            many = await count_covered(
                conn, flow_id, INT64_MIN, INT64_MAX, None, up_to=self._inline_limit + 1
            )
            if many <= self._inline_limit:
                await delete_flow_now(conn, flow_id, row.source_id)
                return None
            await conn.execute(hide.values(deleted_ns=now_ns(), deleted_by=deleted_by))
            return await create_request(
                conn, flow_id=flow_id, start_ns=INT64_MIN, end_ns=INT64_MAX, object_id=None,
                delete_flow=True, created_by=deleted_by,
            )  # fmt: skip

    async def _put(
        self,
        conn: AsyncConnection,
        flow: Flow,
        *,
        mode: PutMode,
        actor: str | None,
        now: int,
        access: Access | None,
    ) -> bool:
        (flow,) = await _with_profiles(conn, [flow])
        check_new_classes(access, flow.tags, kind="flow", item_id=flow.id)
        row = await select_row(conn, flows, flow.id, for_update=True)
        if row is not None:
            if not readable_row(row, access):
                # Hidden, soft-deleted or not: answered as a hidden live Flow (taken
                # for a create, NOT_FOUND otherwise), never telling its state.
                raise _flow_exists(flow.id) if mode == "create" else flow_not_found(flow.id)
            if row.deleted_ns is not None:
                raise _flow_deleted(flow.id)
            if mode == "create":
                raise _flow_exists(flow.id)
            _check(row, access, write=True)
            if row.read_only:
                stored = (await _load(conn, [row], include_timerange=False, access=access))[0]
                if not _differs_only_in_read_only(stored, flow):
                    raise flow_read_only(flow.id)
        elif mode == "replace":
            raise flow_not_found(flow.id)
        kept = {flow.id: row.source_id} if row is not None else {}
        await _ensure_sources(conn, [flow], actor=actor, now=now, access=access, kept=kept)
        if row is None:
            await conn.execute(insert(flows).values(**_new_row_values(flow, actor=actor, now=now)))
        else:
            values = _row_values(flow)
            values.update(
                created_by=flow.created_by or row.created_by,
                updated_by=flow.updated_by or actor or row.updated_by,
                metadata_version=_next_version(row.metadata_version, flow.metadata_version),
                metadata_updated_ns=now,
            )
            await conn.execute(update(flows).where(flows.c.id == flow.id).values(**values))
        await replace_tag_rows(conn, flow_tags, "flow_id", flow.id, flow.tags)
        await _check_members(conn, [flow], access)
        await _replace_collection(conn, flow.id, flow.flow_collection, access)
        record(conn, FlowTouched(flow.id, created=row is None))
        return row is None

    async def _apply(
        self,
        conn: AsyncConnection,
        row: Row[Any],
        changes: dict[str, Any],
        *,
        actor: str | None,
        access: Access | None,
    ) -> None:
        values = {key: value for key, value in changes.items() if key != "flow_collection"}
        if "tags" in changes:
            tags = changes["tags"] or {}
            values["tags"] = tags_to_json(tags)
            await replace_tag_rows(conn, flow_tags, "flow_id", row.id, tags)
        if "flow_collection" in changes:
            collection = tuple(changes["flow_collection"] or ())
            await _check_members(
                conn, [Flow(row.id, row.source_id, row.format, flow_collection=collection)], access
            )
            await _replace_collection(conn, row.id, collection, access)
            await touch_source(conn, row.source_id, actor=actor)
        values["metadata_version"] = _next_version(
            row.metadata_version, changes.get("metadata_version")
        )
        values["metadata_updated_ns"] = now_ns()
        if actor is not None:
            values["updated_by"] = actor
        await conn.execute(update(flows).where(flows.c.id == row.id).values(**values))
        record(conn, FlowTouched(row.id))


def flow_not_found(flow_id: str) -> NotFound:
    """The NOT_FOUND error for an unknown Flow."""
    return NotFound(
        f"flow {flow_id} not found", reason=Reason.FLOW_NOT_FOUND, metadata={"flowId": flow_id}
    )


def flow_read_only(flow_id: str) -> FailedPrecondition:
    """The error for a write to a read-only Flow (TAMS answers 403)."""
    return FailedPrecondition(
        f"flow {flow_id} is read-only; set read_only to false first",
        reason=Reason.FLOW_READ_ONLY,
        metadata={"flowId": flow_id},
    )


def _new_version() -> str:
    return str(uuid.uuid4())


def _next_version(current: str, requested: str | None) -> str:
    """A client may set a new metadata_version; otherwise every change makes one."""
    if requested and requested != current:
        return requested
    return _new_version()


def _differs_only_in_read_only(stored: Flow, new: Flow) -> bool:
    """Whether a whole-Flow PUT changes nothing a client controls but ``read_only``."""
    ignored = {*_SERVER_MANAGED, "read_only"}
    compared = [f.name for f in dataclasses.fields(Flow) if f.name not in ignored]
    return all(getattr(stored, name) == getattr(new, name) for name in compared)


async def _with_profiles(conn: AsyncConnection, new_flows: Sequence[Flow]) -> list[Flow]:
    """The Flows with the technical metadata of the Profile each names, if any."""
    result = []
    for flow in new_flows:
        if flow.profile_id is None:
            result.append(flow)
            continue
        try:
            profile = await load_profile(conn, flow.profile_id)
        except NotFound as error:
            raise FailedPrecondition(
                f"flow {flow.id} names profile {flow.profile_id}, which does not exist",
                reason=Reason.PROFILE_NOT_FOUND,
                metadata={"flowId": flow.id, "profileId": flow.profile_id},
            ) from error
        metadata = profile.flow_metadata
        if flow.format and flow.format != metadata["format"]:
            raise FailedPrecondition(
                f"flow format {flow.format} contradicts the format {metadata['format']} of "
                f"profile {profile.id}",
                reason=Reason.FORMAT_MISMATCH,
                metadata={"profileId": profile.id, "profileFormat": metadata["format"]},
            )
        result.append(with_technical_metadata(flow, metadata))
    return result


def _flow_exists(flow_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"flow {flow_id} already exists",
        reason=Reason.FLOW_ALREADY_EXISTS,
        metadata={"flowId": flow_id},
    )


def _flow_deleted(flow_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"flow {flow_id} is soft-deleted; its id cannot be reused",
        reason=Reason.FLOW_DELETED,
        metadata={"flowId": flow_id},
    )


async def _ensure_sources(
    conn: AsyncConnection,
    new_flows: Sequence[Flow],
    *,
    actor: str | None,
    now: int,
    access: Access | None,
    kept: Mapping[str, str] | None = None,
) -> None:
    """Create the Flows' Sources that are new; refuse a Source of another format, or a
    soft-deleted one. Concurrent creators of one Source both succeed (the insert
    ignores the conflict) and then both check its format.

    Attaching a Flow to a Source that exists already needs write access to it (TAMS
    AppNote 0016, "Adding Flows to Sources" and PUT /flows/{flowId}: a Flow using an
    existing Source id must have write permissions on the Source, else anyone could
    add crafted Flows to it); ``kept`` maps the Flows being replaced to the Source
    they are on already, which they keep without that check (write access to the Flow
    is enough then). The refusal follows the AppNote's rule for rejected requests: a
    caller that may read the Source is PERMISSION_DENIED AUTH_CLASS_DENIED naming it;
    one that may not read it gets NOT_FOUND, the very error ``GetSource`` answers it
    for that id, checked before anything else about the Source, so that neither its
    format, nor its being soft-deleted, nor the Flow (attached to it) tells the caller
    more than a Source it cannot see exists, which any refusal must (an unknown id
    would have been created).
    """
    new_sources: dict[str, dict[str, Any]] = {
        flow.source_id: {
            "id": flow.source_id,
            "format": flow.format,
            "created_by": actor,
            "updated_by": actor,
            "tags": {},
            "created_ns": now,
            "updated_ns": now,
        }
        for flow in new_flows
    }
    created = await conn.execute(
        insert_ignoring_conflicts(conn, sources, ["id"]).returning(sources.c.id),
        list(new_sources.values()),
    )
    created_ids = set(created.scalars())
    record(conn, *(SourceTouched(source_id, created=True) for source_id in created_ids))
    found: dict[str, Any] = {
        row.id: row
        for row in await conn.execute(
            select(sources.c.id, sources.c.format, sources.c.deleted_ns, sources.c.tags).where(
                sources.c.id.in_(new_sources)
            )
        )
    }
    for flow in new_flows:
        source = found[flow.source_id]
        attaching = (kept or {}).get(flow.id) != flow.source_id
        if attaching and source.id not in created_ids:
            check_row_access(source, access, write=True, kind="source", not_found=source_not_found)
        if source.deleted_ns is not None:
            raise FailedPrecondition(
                f"source {flow.source_id} is soft-deleted; flows cannot be added to it",
                reason=Reason.SOURCE_DELETED,
                metadata={"sourceId": flow.source_id},
            )
        if source.format != flow.format:
            raise FailedPrecondition(
                f"flow format {flow.format} contradicts the format {source.format} of its "
                f"source {flow.source_id}",
                reason=Reason.FORMAT_MISMATCH,
                metadata={
                    "sourceId": flow.source_id,
                    "sourceFormat": source.format,
                    "flowFormat": flow.format,
                },
            )


async def _check_members(
    conn: AsyncConnection, collectors: Sequence[Flow], access: Access | None
) -> None:
    """Every collection member must be a live Flow (that the caller may read: one it
    may not is refused as unknown, so naming it tells nothing); run after the
    collectors are written, so a Flow may list itself (as the spec's own multi example
    does) or another Flow of the same batch."""
    member_ids = {item.id for flow in collectors for item in flow.flow_collection}
    if not member_ids:
        return
    stmt = select(flows.c.id).where(flows.c.id.in_(member_ids), flows.c.deleted_ns.is_(None))
    if access is not None:
        stmt = stmt.where(readable_clause(flow_tags, "flow_id", flows.c.id, access))
    found = set(await conn.scalars(stmt))
    for flow in collectors:
        for item in flow.flow_collection:
            if item.id not in found:
                raise FailedPrecondition(
                    f"flow_collection of flow {flow.id} names flow {item.id}, which does not exist",
                    reason=Reason.COLLECTION_MEMBER_NOT_FOUND,
                    metadata={"flowId": flow.id, "memberId": item.id},
                )


async def _replace_collection(
    conn: AsyncConnection,
    collector_id: str,
    collection: Sequence[CollectionItem],
    access: Access | None,
) -> None:
    """Set a Flow's collection as the caller gives it. A restricted caller neither sees
    nor may name the members it may not read, so those it had stay, after its own."""
    kept = await collections.hidden_members(conn, collector_id, access)
    await collections.replace_flow_collection(conn, collector_id, (*collection, *kept))


def _new_row_values(flow: Flow, *, actor: str | None, now: int) -> dict[str, Any]:
    return {
        **_row_values(flow),
        "id": flow.id,
        "created_by": flow.created_by or actor,
        "updated_by": flow.updated_by or actor,
        "metadata_version": flow.metadata_version or _new_version(),
        "created_ns": now,
        "metadata_updated_ns": now,
    }


def _row_values(flow: Flow) -> dict[str, Any]:
    return {
        **{name: getattr(flow, name) for name in _AS_STORED},
        "label": flow.label,
        "description": flow.description,
        "tags": tags_to_json(flow.tags),
        **essence_summary(flow.essence_parameters),
    }


def _check(row: Row[Any], access: Access | None, *, write: bool) -> None:
    check_row_access(row, access, write=write, kind="flow", not_found=flow_not_found)


async def _live_row(conn: AsyncConnection, flow_id: str, access: Access | None) -> Row[Any]:
    """The Flow to change, locked; NOT_FOUND when gone, refused by its classes."""
    row = await select_row(conn, flows, flow_id, for_update=True)
    if row is None or row.deleted_ns is not None:
        raise flow_not_found(flow_id)
    _check(row, access, write=True)
    return row


async def _writable_row(conn: AsyncConnection, flow_id: str, access: Access | None) -> Row[Any]:
    row = await _live_row(conn, flow_id, access)
    if row.read_only:
        raise flow_read_only(flow_id)
    return row


async def load_flows(conn: AsyncConnection, flow_ids: Sequence[str]) -> dict[str, Flow]:
    """The Flows of ``flow_ids`` that exist, by id, as an unrestricted caller reads
    them."""
    rows = (await conn.execute(select(flows).where(among(flows.c.id, flow_ids)))).all()
    loaded = await _load(conn, rows, include_timerange=False, access=None)
    return {flow.id: flow for flow in loaded}


def _classes(row: Row[Any]) -> tuple[str, ...]:
    """The auth classes of a Flow row."""
    return classes_of(tags_from_json(row.tags))


async def _reload(conn: AsyncConnection, flow_id: str, access: Access | None) -> Flow:
    row = await select_row(conn, flows, flow_id)
    assert row is not None
    return (await _load(conn, [row], include_timerange=False, access=access))[0]


async def _load(
    conn: AsyncConnection,
    rows: Sequence[Row[Any]],
    *,
    include_timerange: bool,
    access: Access | None,
) -> list[Flow]:
    """The Flows of ``rows`` as the caller of ``access`` sees them (``collected_by``
    and ``flow_collection`` name only Flows it may read)."""
    common = await resource_fields(conn, rows, collections.flows_collected_by, access)
    collection = await collections.flow_collections(conn, [row.id for row in rows], access)
    return _built(rows, common, collection, include_timerange=include_timerange)


def _built(
    rows: Sequence[Row[Any]],
    common: Sequence[Mapping[str, Any]],
    collection: Mapping[str, tuple[CollectionItem, ...]],
    *,
    include_timerange: bool,
) -> list[Flow]:
    """The Flows of ``rows``, given their ``Resource`` fields and collections."""
    return [
        Flow(
            **fields,
            **{name: getattr(row, name) for name in _AS_STORED},
            metadata_version=row.metadata_version,
            flow_collection=collection.get(row.id, ()),
            metadata_updated_ns=row.metadata_updated_ns,
            segments_updated_ns=row.segments_updated_ns,
            timerange=(
                extent_text(row.timerange_start_ns, row.timerange_end_ns)
                if include_timerange
                else None
            ),
        )
        for row, fields in zip(rows, common, strict=True)
    ]


def _filters(query: FlowQuery, access: Access | None) -> list[ColumnElement[bool]]:
    c = flows.c
    clauses: list[ColumnElement[bool]] = []
    if not query.show_deleted:
        clauses.append(c.deleted_ns.is_(None))
    equal = {
        c.source_id: query.source_id,
        c.format: query.format,
        c.codec: query.codec,
        c.label: query.label,
        c.frame_width: query.frame_width,
        c.frame_height: query.frame_height,
        c.profile_id: query.profile_id,
        c.status: query.status,
    }
    clauses += [column == value for column, value in equal.items() if value is not None]
    if query.label_prefix is not None:
        clauses.append(starts_with(c.label, query.label_prefix))
    if query.init_segments is not None:
        has_init = c.init_segments.is_(True)
        clauses.append(has_init if query.init_segments else ~has_init | c.init_segments.is_(None))
    if query.timerange is not None:
        if query.timerange.never:
            clauses.append(c.timerange_start_ns.is_(None))
        else:
            clauses += [
                c.timerange_start_ns < query.timerange.end_ns,
                c.timerange_end_ns > query.timerange.start_ns,
            ]
    clauses += tag_filter_clauses(flow_tags, "flow_id", c.id, query.tags)
    collected = collections.flow_collected_by_filter(
        c.id, query.collected_by_ids, not_collected=query.not_collected, access=access
    )
    if collected is not None:
        clauses.append(collected)
    return clauses


def extent_text(start_ns: int | None, end_ns: int | None) -> str:
    """The Flow's timerange from its stored extent; ``()`` when it has no Segments."""
    if start_ns is None or end_ns is None:
        return "()"
    return format_timerange(from_bounds(start_ns, end_ns))
