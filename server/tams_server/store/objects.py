"""Objects in the store: allocation of new ids for a Flow's uploads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from tams_server.domain.errors import AlreadyExists, FailedPrecondition
from tams_server.store.clock import now_ns
from tams_server.store.engine import Database
from tams_server.store.flows import flow_not_found, flow_read_only
from tams_server.store.raw import insert_rows
from tams_server.store.schema import flows, objects, segments

OBJECT_IDS_TAKEN = "OBJECT_IDS_TAKEN"
FLOW_HAS_NO_CONTAINER = "FLOW_HAS_NO_CONTAINER"
_COLUMNS = (
    "id", "first_flow_id", "created_ns", "storage_id", "storage_key", "content_type",
    "expires_ns",
)  # fmt: skip


def object_key(flow_id: str, object_id: str, at_ns: int) -> str:
    """Where an Object's bytes go in its backend: ``{flow}/{yyyy}/{mm}/{dd}/{object}``
    (the seed usage guide's layout)."""
    day = datetime.fromtimestamp(at_ns / 1e9, UTC)
    return f"{flow_id}/{day:%Y/%m/%d}/{object_id}"


class ObjectStore:
    """Use cases on Objects, each one transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def allocate(
        self,
        flow_id: str,
        object_ids: Sequence[str],
        *,
        storage_id: str,
        content_type: str | None,
        lifetime_ns: int,
    ) -> tuple[str, list[tuple[str, str]]]:
        """Record new Objects for a Flow's uploads; returns the content type to upload
        with and (object id, key) pairs. All or none: ALREADY_EXISTS names a taken id."""
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
            kind = content_type or flow.container
            if kind is None:
                raise FailedPrecondition(
                    f"flow {flow_id} has no container, so its objects have no content type; "
                    "set the flow's container (or content_type, for init objects)",
                    reason=FLOW_HAS_NO_CONTAINER,
                    metadata={"flowId": flow_id},
                )
            taken = await conn.scalar(
                select(objects.c.id).where(objects.c.id.in_(object_ids)).limit(1)
            )
            if taken is not None:
                raise AlreadyExists(
                    f"object id {taken!r} is in use already",
                    reason=OBJECT_IDS_TAKEN,
                    metadata={"objectId": taken},
                )
            keyed = [(oid, object_key(flow_id, oid, now)) for oid in object_ids]
            rows = [
                (oid, flow_id, now, storage_id, key, kind, now + lifetime_ns) for oid, key in keyed
            ]
            await insert_rows(conn, objects, _COLUMNS, rows)
            return kind, keyed

    async def expired(self, *, limit: int) -> list[tuple[str, str, str]]:
        """Up to ``limit`` allocations past their expiry: (id, storage id, key)."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(objects.c.id, objects.c.storage_id, objects.c.storage_key)
                .where(objects.c.expires_ns < now_ns())
                .limit(limit)
            )
            return [(row[0], row[1], row[2]) for row in rows]

    async def forget_if_unused(self, object_id: str) -> bool:
        """Drop an expired allocation that no Segment uses (True: delete its bytes);
        one that a Segment uses is kept for good (its expiry is cleared)."""
        async with self._db.write() as conn:
            used = await conn.scalar(
                select(segments.c.flow_id).where(segments.c.object_id == object_id).limit(1)
            )
            if used is not None:
                await conn.execute(
                    update(objects).where(objects.c.id == object_id).values(expires_ns=None)
                )
                return False
            gone = await conn.execute(
                delete(objects).where(objects.c.id == object_id, objects.c.expires_ns < now_ns())
            )
            return bool(gone.rowcount)
