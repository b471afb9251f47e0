"""Objects in the store: allocation of new ids for a Flow's uploads, the state that
segment registration checks and changes, and the cleanup of unused ones."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Integer,
    Text,
    bindparam,
    case,
    cast,
    column,
    delete,
    func,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnClause

from tams_server.domain.errors import AlreadyExists, FailedPrecondition, Reason
from tams_server.domain.object_rules import ObjectState
from tams_server.domain.objects import ObjectLocation
from tams_server.store.clock import now_ns
from tams_server.store.dialect import in_many_bound, many_values
from tams_server.store.engine import Database
from tams_server.store.flows import flow_not_found, flow_read_only
from tams_server.store.raw import execute_many_sqlite, fetch_all, insert_rows
from tams_server.store.schema import (
    deleted_segments,
    flows,
    object_instances,
    objects,
    segments,
)

_COLUMNS = (
    "id", "first_flow_id", "created_ns", "storage_id", "storage_key", "content_type",
    "expires_ns",
)  # fmt: skip


def object_key(flow_id: str, object_id: str, at_ns: int) -> str:
    """Where an Object's bytes go in its backend: ``{flow}/{yyyy}/{mm}/{dd}/{object}``
    (the seed usage guide's layout)."""
    day = datetime.fromtimestamp(at_ns / 1e9, UTC)
    return f"{flow_id}/{day:%Y/%m/%d}/{object_id}"


@dataclass(frozen=True)
class Allocation:
    """Ids to allocate on one backend, uploaded with ``content_type`` (None: the
    Flow's container)."""

    object_ids: Sequence[str]
    storage_id: str
    content_type: str | None


class ObjectRecordStore:
    """The records of Objects (where their bytes are, their state and expiry), not the
    bytes themselves (those are ``tams_server.objects``'): each method one transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def allocate_groups(
        self,
        flow_id: str,
        groups: Sequence[Allocation],
        *,
        lifetime_ns: int,
        reissuable: frozenset[str] = frozenset(),
    ) -> list[tuple[str, list[tuple[str, str]]]]:
        """Record new Objects for a Flow's uploads, in groups (ids distinct across
        groups); returns, per group, the content type to upload with and (object id,
        key) pairs. All or none: ALREADY_EXISTS names a taken id. An id of
        ``reissuable`` that is still pending (``pending``) on the group's backend is
        not taken: its key is returned again."""
        now = now_ns()
        async with self._db.write() as conn:
            flow = (
                await conn.execute(
                    select(flows.c.read_only, flows.c.container, flows.c.deleted_ns).where(
                        flows.c.id == flow_id
                    )
                )
            ).first()
            if flow is None or flow.deleted_ns is not None:
                raise flow_not_found(flow_id)
            if flow.read_only:
                raise flow_read_only(flow_id)
            if any(group.content_type is None for group in groups) and flow.container is None:
                raise FailedPrecondition(
                    f"flow {flow_id} has no container, so its objects have no content type; "
                    "set the flow's container (or content_type, for init objects)",
                    reason=Reason.FLOW_HAS_NO_CONTAINER,
                    metadata={"flowId": flow_id},
                )
            every_id = [oid for group in groups for oid in group.object_ids]
            storage_of = {oid: group.storage_id for group in groups for oid in group.object_ids}
            pending = await _pending_keys(conn, flow_id, every_id) if reissuable else {}
            known = (
                await conn.execute(select(objects.c.id).where(objects.c.id.in_(every_id)))
            ).scalars()
            for taken in sorted(known):
                again = pending.get(taken) if taken in reissuable else None
                if again is None or again[0] != storage_of[taken]:
                    raise AlreadyExists(
                        f"object id {taken!r} is in use already",
                        reason=Reason.OBJECT_IDS_TAKEN,
                        metadata={"objectId": taken},
                    )
            allocated, rows = [], []
            for group in groups:
                kind = group.content_type or flow.container
                keyed = [
                    (oid, pending[oid][1] if oid in pending else object_key(flow_id, oid, now))
                    for oid in group.object_ids
                ]
                rows += [
                    (oid, flow_id, now, group.storage_id, key, kind, now + lifetime_ns)
                    for oid, key in keyed
                    if oid not in pending
                ]
                allocated.append((kind, keyed))
            await insert_rows(conn, objects, _COLUMNS, rows)
            return allocated

    async def expired(self, *, limit: int) -> list[str]:
        """Up to ``limit`` Objects past their expiry: allocations never used, and
        Objects whose Segments were deleted."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(objects.c.id)
                .where(objects.c.expires_ns < now_ns())
                .order_by(objects.c.expires_ns)  # oldest first: nothing waits for ever
                .limit(limit)
            )
            return [row[0] for row in rows]

    async def forget_if_unused(self, object_id: str) -> list[tuple[str, str]] | None:
        """Drop an expired Object that no Segment (live or soft-deleted, as media or
        init Object) uses, and return the (storage id, key) of every copy, whose bytes
        the caller deletes. One still in use is kept for good (its expiry is cleared):
        None."""
        async with self._db.write() as conn:
            for table in (segments, deleted_segments):
                for column in (table.c.object_id, table.c.init_object_id):
                    used = await conn.scalar(select(column).where(column == object_id).limit(1))
                    if used is not None:
                        await conn.execute(
                            update(objects).where(objects.c.id == object_id).values(expires_ns=None)
                        )
                        return None
            copies = await conn.execute(
                select(object_instances.c.storage_id, object_instances.c.storage_key).where(
                    object_instances.c.object_id == object_id
                )
            )
            places = [(row[0], row[1]) for row in copies]
            gone = await conn.execute(
                delete(objects)
                .where(objects.c.id == object_id, objects.c.expires_ns < now_ns())
                .returning(objects.c.storage_id, objects.c.storage_key)
            )
            first = gone.first()  # its copies' rows go with it (ON DELETE CASCADE)
            if first is None:
                return None
            await conn.execute(
                delete(object_instances).where(object_instances.c.object_id == object_id)
            )
            if first.storage_id is not None and first.storage_key is not None:
                places.insert(0, (first.storage_id, first.storage_key))
            return places

    async def locations(self, object_ids: Collection[str]) -> dict[str, ObjectLocation]:
        """Where the bytes of each known Object of ``object_ids`` are, for its get_urls."""
        if not object_ids:
            return {}
        async with self._db.read(snapshot=False) as conn:
            return await read_locations(conn, object_ids)

    async def pending(
        self, flow_id: str, object_ids: Collection[str]
    ) -> list[tuple[str, str, str]]:
        """Of ``object_ids``, the Objects a Segment of ``flow_id`` allocated before their
        upload whose bytes were never seen in their backend: (id, storage id, key)."""
        async with self._db.read(snapshot=False) as conn:
            found = await _pending_keys(conn, flow_id, object_ids)
            return [(oid, storage_id, key) for oid, (storage_id, key) in found.items()]

    async def unverified(self, object_ids: Collection[str]) -> list[tuple[str, str, str]]:
        """Of ``object_ids``, the allocated Objects whose bytes were never seen in their
        backend: (id, storage id, key), for registration to look for them."""
        if not object_ids:
            return []
        async with self._db.read(snapshot=False) as conn:
            dialect = conn.dialect.name
            rows = await fetch_all(
                conn, _UNVERIFIED[dialect], {"ids": many_values(dialect, object_ids)}
            )
            return [(row[0], row[1], row[2]) for row in rows]


async def _pending_keys(
    conn: AsyncConnection, flow_id: str, object_ids: Collection[str]
) -> dict[str, tuple[str, str]]:
    """The Objects of ``object_ids`` registered on ``flow_id`` before their upload (an
    allocation's Object is registered only once uploaded, so a registered Object of
    a backend whose bytes were never seen is one a Segment allocated): id -> (storage
    id, key)."""
    rows = await conn.execute(
        select(objects.c.id, objects.c.storage_id, objects.c.storage_key).where(
            objects.c.id.in_(list(object_ids)),
            objects.c.first_flow_id == flow_id,
            objects.c.storage_id.is_not(None),
            objects.c.storage_key.is_not(None),
            objects.c.registered_ns.is_not(None),
            objects.c.uploaded_ns.is_(None),
        )
    )
    return {row[0]: (row[1], row[2]) for row in rows}


_LOCATIONS = select(
    objects.c.id, objects.c.storage_id, objects.c.storage_key, objects.c.get_urls,
    objects.c.extra_instances,
).where(objects.c.id.in_(bindparam("ids", expanding=True)))  # fmt: skip


async def read_locations(
    conn: AsyncConnection, object_ids: Collection[str]
) -> dict[str, ObjectLocation]:
    """Where the bytes of each known Object of ``object_ids`` are: two queries, the
    second only for Objects with further copies."""
    found: dict[str, ObjectLocation] = {}
    with_copies: list[str] = []
    for object_id, storage_id, key, urls, extra in await conn.execute(
        _LOCATIONS, {"ids": list(object_ids)}
    ):
        if isinstance(urls, str):
            urls = orjson.loads(urls)
        found[object_id] = ObjectLocation(storage_id, key, (), urls or ())
        if extra:
            with_copies.append(object_id)
    if with_copies:
        copies: dict[str, list[tuple[str, str]]] = {}
        listed = await conn.execute(
            select(
                object_instances.c.object_id,
                object_instances.c.storage_id,
                object_instances.c.storage_key,
            )
            .where(object_instances.c.object_id.in_(with_copies))
            .order_by(object_instances.c.created_ns)
        )
        for object_id, storage_id, key in listed:
            copies.setdefault(object_id, []).append((storage_id, key))
        for object_id, more in copies.items():
            found[object_id] = replace(found[object_id], copies=tuple(more))
    return found


_STATE_COLUMNS = (
    objects.c.id, objects.c.first_flow_id, objects.c.storage_id, objects.c.uploaded_ns,
    objects.c.registered_ns, objects.c.kind, objects.c.timerange, objects.c.start_ns,
    objects.c.end_ns, objects.c.key_frame_count, objects.c.init_object_id, objects.c.get_urls,
    objects.c.storage_key, objects.c.extra_instances,
)  # fmt: skip
# Built once per engine and read through the driver (``store.raw``): a registration
# reads a thousand rows of each, which SQLAlchemy's row processing made cost as much
# as the rest of the batch's Object handling.
_STATES = {
    "sqlite": select(*_STATE_COLUMNS).where(in_many_bound("sqlite", objects.c.id, "ids")),
    # Locked in id order, so two registrations cannot deadlock.
    "postgresql": select(*_STATE_COLUMNS)
    .where(in_many_bound("postgresql", objects.c.id, "ids"))
    .order_by(objects.c.id)
    .with_for_update(),
}
_UNVERIFIED = {
    dialect: select(objects.c.id, objects.c.storage_id, objects.c.storage_key).where(
        in_many_bound(dialect, objects.c.id, "ids"),
        objects.c.storage_id.is_not(None),
        objects.c.uploaded_ns.is_(None),
    )
    for dialect in ("sqlite", "postgresql")
}


async def read_states(
    conn: AsyncConnection, object_ids: Collection[str], *, uploaded: Mapping[str, int | None]
) -> list[ObjectState]:
    """The Objects a registration uses, inside its write transaction; ``uploaded`` are
    those whose bytes were just seen in their backend. On PostgreSQL the rows stay
    locked (in id order, so two registrations cannot deadlock) until the transaction
    ends: the janitor cannot drop an allocation that is being registered."""
    if not object_ids:
        return []
    dialect = conn.dialect.name
    rows = await fetch_all(conn, _STATES[dialect], {"ids": many_values(dialect, object_ids)})
    states = []
    for (
        object_id, first_flow_id, storage_id, uploaded_ns, registered_ns, kind, timerange,
        start_ns, end_ns, key_frame_count, init_object_id, urls, storage_key, extra_instances,
    ) in rows:  # fmt: skip
        if isinstance(urls, str):
            urls = orjson.loads(urls)
        seen_now = uploaded_ns is None and object_id in uploaded
        states.append(
            ObjectState(
                object_id,
                first_flow_id=first_flow_id,
                stored=storage_id is not None,
                uploaded=uploaded_ns is not None or seen_now,
                size_bytes=uploaded.get(object_id) if seen_now else None,
                registered=registered_ns is not None,
                kind=kind,
                timerange=timerange,
                start_ns=start_ns,
                end_ns=end_ns,
                key_frame_count=key_frame_count,
                init_object_id=init_object_id,
                get_urls=list(urls or []),
                storage_id=storage_id,
                storage_key=storage_key,
                extra_instances=extra_instances,
                changed=seen_now,
            )
        )
    return states


_NEW_COLUMNS = (
    "id", "first_flow_id", "created_ns", "registered_ns", "kind", "timerange", "start_ns",
    "end_ns", "key_frame_count", "init_object_id", "get_urls", "storage_id", "storage_key",
    "content_type",
)  # fmt: skip

_SAVE = (
    update(objects)
    .where(objects.c.id == bindparam("b_id"))
    .values(
        uploaded_ns=func.coalesce(objects.c.uploaded_ns, bindparam("b_uploaded", type_=BigInteger)),
        size_bytes=func.coalesce(objects.c.size_bytes, bindparam("b_size", type_=BigInteger)),
        registered_ns=func.coalesce(
            objects.c.registered_ns, bindparam("b_registered", type_=BigInteger)
        ),
        # A registered Object no longer expires: it goes when its last Segment does.
        expires_ns=case(
            (bindparam("b_registered", type_=BigInteger).is_(None), objects.c.expires_ns),
            else_=null(),
        ),
        kind=bindparam("b_kind"),
        timerange=bindparam("b_timerange"),
        start_ns=bindparam("b_start"),
        end_ns=bindparam("b_end"),
        key_frame_count=bindparam("b_key_frames"),
        init_object_id=bindparam("b_init"),
        get_urls=bindparam("b_urls"),
    )
)


# PostgreSQL: the same changes in one statement, from arrays (``unnest``), instead of
# one UPDATE per Object: a batch of first-seen uploads changes a thousand rows.
_CHANGED: tuple[ColumnClause[Any], ...] = (
    column("id", Text), column("uploaded", BigInteger), column("size", BigInteger),
    column("registered", BigInteger), column("kind", Text), column("timerange", Text),
    column("start_ns", BigInteger), column("end_ns", BigInteger),
    column("key_frames", Integer), column("init", Text), column("urls", Text),
)  # fmt: skip
_ROWS = (
    func.unnest(*(bindparam(f"a_{col.name}", type_=postgresql.ARRAY(col.type)) for col in _CHANGED))
    .table_valued(*_CHANGED)
    .render_derived(name="v", with_types=False)
)
_SAVE_ALL = (
    update(objects)
    .where(objects.c.id == _ROWS.c.id)
    .values(
        uploaded_ns=func.coalesce(objects.c.uploaded_ns, _ROWS.c.uploaded),
        size_bytes=func.coalesce(objects.c.size_bytes, _ROWS.c.size),
        registered_ns=func.coalesce(objects.c.registered_ns, _ROWS.c.registered),
        expires_ns=case((_ROWS.c.registered.is_(None), objects.c.expires_ns), else_=null()),
        kind=_ROWS.c.kind,
        timerange=_ROWS.c.timerange,
        start_ns=_ROWS.c.start_ns,
        end_ns=_ROWS.c.end_ns,
        key_frame_count=_ROWS.c.key_frames,
        init_object_id=_ROWS.c.init,
        get_urls=cast(_ROWS.c.urls, postgresql.JSON),
    )
)


def _new_row(s: ObjectState, now: int, content_type: str | None) -> tuple[object, ...]:
    """The row of an Object a registration introduces: external (no backend), or
    allocated on ``s.storage_id`` by its first Segment, under the key an allocation
    would give it."""
    urls = orjson.dumps(s.get_urls).decode() if s.get_urls else None
    key = s.storage_key
    return (
        s.id, s.first_flow_id, now, now, s.kind, s.timerange, s.start_ns, s.end_ns,
        s.key_frame_count, s.init_object_id, urls, s.storage_id, key,
        content_type if key is not None else None,
    )  # fmt: skip


async def save_states(
    conn: AsyncConnection,
    states: Sequence[ObjectState],
    now: int,
    *,
    content_type: str | None = None,
) -> None:
    """Write what a registration changed: new Objects (external, or allocated by
    their first Segment, uploaded with ``content_type``), and the first use, upload or
    new uncontrolled URLs of known ones. A new Object allocated by its first Segment
    is given its key here (``storage_key``), under which its bytes are to come."""
    for s in states:
        if s.new and s.storage_id is not None and s.first_flow_id is not None:
            s.storage_key = object_key(s.first_flow_id, s.id, now)
    new = [_new_row(s, now, content_type) for s in states if s.new and s.registered]
    if new:
        await insert_rows(conn, objects, _NEW_COLUMNS, new)
    changed = [s for s in states if s.changed and not s.new]
    if not changed:
        return
    if conn.dialect.name == "postgresql":
        await conn.execute(_SAVE_ALL, _as_arrays(changed, now))
        return
    await execute_many_sqlite(
        conn,
        _SAVE,
        [
            {
                "b_id": s.id,
                "b_uploaded": now if s.uploaded else None,
                "b_size": s.size_bytes,
                "b_registered": now if s.registered else None,
                "b_kind": s.kind,
                "b_timerange": s.timerange,
                "b_start": s.start_ns,
                "b_end": s.end_ns,
                "b_key_frames": s.key_frame_count,
                "b_init": s.init_object_id,
                "b_urls": orjson.dumps(s.get_urls).decode() if s.get_urls else None,
            }
            for s in changed
        ],
    )


def _as_arrays(changed: Sequence[ObjectState], now: int) -> dict[str, list[Any]]:
    """The parameters of ``_SAVE_ALL``: one array per column of ``_CHANGED``."""
    rows = [
        (s.id, now if s.uploaded else None, s.size_bytes, now if s.registered else None,
         s.kind, s.timerange, s.start_ns, s.end_ns, s.key_frame_count, s.init_object_id,
         orjson.dumps(s.get_urls).decode() if s.get_urls else None)
        for s in changed
    ]  # fmt: skip
    columns = zip(*rows, strict=True)
    return {f"a_{col.name}": list(values) for col, values in zip(_CHANGED, columns, strict=True)}
