"""Objects as TAMS ``/objects/{id}`` shows them (the Flows using them, paged; their
properties and where their bytes are), and their instances: further controlled copies
on other backends, and uncontrolled URLs (ADR 0038, 0042).

By ``auth_classes`` (``domain.access``), a caller sees an Object through the Flows
using it: only those it may read are listed, one it may read none of does not exist
for it, and changing its instances needs write access to one of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import Access
from tams_server.domain.errors import FailedPrecondition, NotFound, PermissionDenied, Reason
from tams_server.domain.objects import ObjectLocation, ObjectRecord
from tams_server.domain.queries import Page
from tams_server.domain.tags import TagFilter
from tams_server.store.clock import now_ns
from tams_server.store.engine import Database
from tams_server.store.object_places import refresh_places
from tams_server.store.objects import read_locations
from tams_server.store.paging import DEFAULT_PAGE_SIZE, Pager, PageTokenCodec, fingerprint
from tams_server.store.schema import flow_tags, flows, object_instances, objects, segments
from tams_server.store.tags import readable_clause, tag_filter_clauses


class ObjectInfoStore:
    """Reads of Objects and changes of their instances, each one transaction."""

    def __init__(self, database: Database, tokens: PageTokenCodec) -> None:
        self._db = database
        self._tokens = tokens

    async def get(
        self,
        object_id: str,
        *,
        flow_filters: Sequence[TagFilter] = (),
        page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str = "",
        access: Access | None = None,
    ) -> tuple[ObjectRecord, Page[str], ObjectLocation | None]:
        """The Object, a page of the ids of the live Flows using it that the caller may
        read (in id order) and where its init Object is. Allocated Objects that no
        Segment used yet are NOT_FOUND (TAMS), as are those ``access`` lets the caller
        read no Flow of; ``first_flow_id`` is left out when it names a hidden Flow."""
        pager = Pager(self._tokens, fingerprint("object-flows", object_id, flow_filters), page_size)
        after = pager.resume(page_token)
        async with self._db.read() as conn:
            record = await _record(conn, object_id)
            if access is not None:
                record = await _as_seen(conn, record, access)
            using = union(
                select(segments.c.flow_id.label("flow_id")).where(
                    segments.c.object_id == object_id
                ),
                select(segments.c.flow_id.label("flow_id")).where(
                    segments.c.init_object_id == object_id
                ),
            ).subquery()
            where = [
                flows.c.deleted_ns.is_(None),
                *tag_filter_clauses(flow_tags, "flow_id", flows.c.id, flow_filters),
            ]
            if access is not None:
                where.append(readable_clause(flow_tags, "flow_id", flows.c.id, access))
            stmt = (
                select(using.c.flow_id)
                .join(flows, flows.c.id == using.c.flow_id)
                .where(*where)
                .order_by(using.c.flow_id)
                .limit(pager.limit)
            )
            if after is not None:
                stmt = stmt.where(using.c.flow_id > str(after[0]))
            flow_ids, token = pager.cut(list(await conn.scalars(stmt)), lambda flow_id: [flow_id])
            init = None
            if record.init_object_id is not None:
                init = (await read_locations(conn, [record.init_object_id])).get(
                    record.init_object_id
                )
            return record, Page(list(flow_ids), token, page_size), init

    async def check_writable(self, object_id: str, access: Access | None) -> None:
        """Refuse a change of the Object's instances to a caller ``access`` lets write
        to no Flow using it: NOT_FOUND when it may read none of them either,
        PERMISSION_DENIED AUTH_CLASS_DENIED otherwise. Without an access to check,
        nothing is read; an unknown Object is left to the change to report."""
        if access is None:
            return
        async with self._db.read() as conn:
            if not await _used_by_one(conn, object_id, access):
                raise _object_not_found(object_id)
            if not await _used_by_one(conn, object_id, access.as_writer()):
                raise PermissionDenied(
                    f"no write access to any flow using object {object_id} by their auth_classes",
                    reason=Reason.AUTH_CLASS_DENIED,
                    metadata={"objectId": object_id},
                )

    async def check_copy(self, object_id: str, storage_id: str) -> tuple[str, str, str | None]:
        """Where to copy from to make a copy on ``storage_id``: (storage id, key) of an
        existing copy, and the content type. FAILED_PRECONDITION when the backend has
        one already or the service holds none to copy."""
        async with self._db.read() as conn:
            record = await _record(conn, object_id)
            location = record.location
            held = [(location.storage_id, location.storage_key)] if location.storage_id else []
            held += list(location.copies)
            if any(sid == storage_id for sid, _ in held):
                raise FailedPrecondition(
                    f"object {object_id} has a copy on storage backend {storage_id} already",
                    reason=Reason.INSTANCE_EXISTS,
                    metadata={"objectId": object_id, "storageId": storage_id},
                )
            for sid, key in held:
                if sid is not None and key is not None:
                    return sid, key, record.content_type
            raise FailedPrecondition(
                f"object {object_id} has no copy in this service's storage to copy from; "
                "only its uncontrolled URLs are known",
                reason=Reason.NO_CONTROLLED_COPY,
                metadata={"objectId": object_id},
            )

    async def add_copy(self, object_id: str, storage_id: str, key: str) -> None:
        """Record a copy made on ``storage_id``."""
        async with self._db.write() as conn:
            record = await _record(conn, object_id, lock=True)
            if record.location.storage_id is None:
                await _relocate(conn, object_id, storage_id=storage_id, storage_key=key)
                return
            if storage_id == record.location.storage_id or any(
                sid == storage_id for sid, _ in record.location.copies
            ):
                raise FailedPrecondition(
                    f"object {object_id} has a copy on storage backend {storage_id} already",
                    reason=Reason.INSTANCE_EXISTS,
                    metadata={"objectId": object_id, "storageId": storage_id},
                )
            await conn.execute(
                object_instances.insert().values(
                    object_id=object_id, storage_id=storage_id, storage_key=key,
                    created_ns=now_ns(),
                )
            )  # fmt: skip
            await _relocate(conn, object_id, extra_instances=objects.c.extra_instances + 1)

    async def add_uncontrolled(self, object_id: str, url: str, label: str) -> None:
        """Add an uncontrolled URL; its label must be new on the Object."""
        async with self._db.write() as conn:
            record = await _record(conn, object_id, lock=True)
            urls = list(record.location.uncontrolled)
            if any(u["label"] == label for u in urls):
                raise FailedPrecondition(
                    f"object {object_id} has an instance labelled {label!r} already",
                    reason=Reason.INSTANCE_EXISTS,
                    metadata={"objectId": object_id, "label": label},
                )
            urls.append({"url": url, "label": label})
            await _set_urls(conn, object_id, urls)

    async def remove(
        self, object_id: str, *, storage_id: str | None = None, label: str | None = None
    ) -> tuple[str, str] | None:
        """Remove the copy on ``storage_id`` (returns its (storage id, key), whose bytes
        the caller deletes) or the uncontrolled URL labelled ``label``. The last
        instance cannot go: delete the Segments that use the Object instead."""
        async with self._db.write() as conn:
            record = await _record(conn, object_id, lock=True)
            location = record.location
            held = int(location.storage_id is not None) + len(location.copies)
            total = held + len(location.uncontrolled)
            if label is not None:
                urls = [u for u in location.uncontrolled if u["label"] != label]
                if len(urls) == len(location.uncontrolled):
                    raise _no_instance(object_id, "label", label)
                _keep_one(object_id, total)
                await _set_urls(conn, object_id, urls)
                return None
            assert storage_id is not None
            if location.storage_id == storage_id and location.storage_key is not None:
                _keep_one(object_id, total)
                await _drop_first_copy(conn, object_id, location)
                return storage_id, location.storage_key
            for sid, key in location.copies:
                if sid == storage_id:
                    _keep_one(object_id, total)
                    await conn.execute(
                        object_instances.delete().where(
                            object_instances.c.object_id == object_id,
                            object_instances.c.storage_id == storage_id,
                        )
                    )
                    await _relocate(conn, object_id, extra_instances=objects.c.extra_instances - 1)
                    return sid, key
            raise _no_instance(object_id, "storageId", storage_id)


async def _drop_first_copy(conn: AsyncConnection, object_id: str, location: ObjectLocation) -> None:
    """Remove the first copy; a further copy, if any, takes its place."""
    if not location.copies:
        await _relocate(conn, object_id, storage_id=None, storage_key=None)
        return
    storage_id, key = location.copies[0]
    await conn.execute(
        object_instances.delete().where(
            object_instances.c.object_id == object_id, object_instances.c.storage_id == storage_id
        )
    )
    await _relocate(
        conn,
        object_id,
        storage_id=storage_id,
        storage_key=key,
        extra_instances=objects.c.extra_instances - 1,
    )


def _keep_one(object_id: str, instances: int) -> None:
    if instances <= 1:
        raise FailedPrecondition(
            f"that is the last instance of object {object_id}; to remove the object, "
            "delete the segments that use it",
            reason=Reason.LAST_INSTANCE,
            metadata={"objectId": object_id},
        )


def _no_instance(object_id: str, key: str, value: str) -> NotFound:
    return NotFound(
        f"object {object_id} has no instance with {key} {value!r}",
        reason=Reason.INSTANCE_NOT_FOUND,
        metadata={"objectId": object_id, key: value},
    )


async def _set_urls(conn: AsyncConnection, object_id: str, urls: list[dict[str, str]]) -> None:
    await _relocate(conn, object_id, get_urls=urls or None)


async def _relocate(conn: AsyncConnection, object_id: str, **location: Any) -> None:
    """Change where an Object is (its first copy, its count of further copies, its
    uncontrolled URLs), and the copy of that its Segments keep."""
    await conn.execute(update(objects).where(objects.c.id == object_id).values(**location))
    await refresh_places(conn, [object_id])


async def _record(conn: AsyncConnection, object_id: str, *, lock: bool = False) -> ObjectRecord:
    """A registered Object, or NOT_FOUND."""
    stmt = select(objects).where(objects.c.id == object_id, objects.c.registered_ns.is_not(None))
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row: Any = (await conn.execute(stmt)).first()
    if row is None:
        raise _object_not_found(object_id)
    location = (await read_locations(conn, [object_id]))[object_id]
    return ObjectRecord(
        id=row.id,
        first_flow_id=row.first_flow_id,
        content_type=row.content_type,
        kind=row.kind,
        timerange=row.timerange,
        key_frame_count=row.key_frame_count,
        init_object_id=row.init_object_id,
        location=location,
    )


def _object_not_found(object_id: str) -> NotFound:
    return NotFound(
        f"object {object_id} does not exist (or no segment uses it yet)",
        reason=Reason.OBJECT_NOT_FOUND,
        metadata={"objectId": object_id},
    )


async def _as_seen(conn: AsyncConnection, record: ObjectRecord, access: Access) -> ObjectRecord:
    """The Object as a caller restricted by ``access`` sees it: NOT_FOUND when it may
    read no Flow using it, without ``first_flow_id`` when that Flow is hidden."""
    if not await _used_by_one(conn, record.id, access):
        raise _object_not_found(record.id)
    first = record.first_flow_id
    if first is not None and not await _exists(
        conn,
        flows.c.id,
        flows.c.id == first,
        readable_clause(flow_tags, "flow_id", flows.c.id, access),
    ):
        return replace(record, first_flow_id=None)
    return record


async def _used_by_one(conn: AsyncConnection, object_id: str, access: Access) -> bool:
    """Whether a Segment of a Flow ``access`` may read uses the Object (or has it as
    its init Object)."""
    return await _exists(
        conn,
        segments.c.flow_id,
        or_(segments.c.object_id == object_id, segments.c.init_object_id == object_id),
        readable_clause(flow_tags, "flow_id", segments.c.flow_id, access),
    )


async def _exists(
    conn: AsyncConnection, column: ColumnElement[Any], *where: ColumnElement[bool]
) -> bool:
    """Whether a row of ``column``'s table matches ``where`` (one row read at most)."""
    return (await conn.execute(select(column).where(*where).limit(1))).first() is not None
