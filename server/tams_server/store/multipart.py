"""Multipart uploads in progress: which Object each is for, until completed, aborted
or expired."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from tams_server.domain.errors import FailedPrecondition, NotFound, Reason
from tams_server.store.clock import now_ns
from tams_server.store.engine import Database
from tams_server.store.flows import flow_not_found, flow_read_only
from tams_server.store.schema import flows, multipart_uploads, objects


class MultipartStore:
    """Records of multipart uploads, each call one transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def target(self, flow_id: str, object_id: str) -> tuple[str, str, str | None]:
        """Where an upload of ``object_id`` for ``flow_id`` goes: (storage id, key,
        content type). The Object must be allocated for this (writable) Flow, and no
        Segment may use it yet: the bytes of a registered Object are fixed."""
        async with self._db.read() as conn:
            flow = (
                await conn.execute(
                    select(flows.c.read_only, flows.c.deleted_ns).where(flows.c.id == flow_id)
                )
            ).first()
            if flow is None or flow.deleted_ns is not None:
                raise flow_not_found(flow_id)
            if flow.read_only:
                raise flow_read_only(flow_id)
            row: Any = (
                await conn.execute(select(objects).where(objects.c.id == object_id))
            ).first()
            if row is None or row.first_flow_id != flow_id or row.storage_id is None:
                raise FailedPrecondition(
                    f"object {object_id} was not allocated on flow {flow_id}'s storage",
                    reason=Reason.OBJECT_NOT_ALLOCATED,
                    metadata={"objectId": object_id, "flowId": flow_id},
                )
            if row.registered_ns is not None:
                raise FailedPrecondition(
                    f"object {object_id} is used by segments already; its bytes are fixed",
                    reason=Reason.OBJECT_IN_USE,
                    metadata={"objectId": object_id},
                )
            return row.storage_id, row.storage_key, row.content_type

    async def record(
        self,
        upload_id: str,
        *,
        object_id: str,
        flow_id: str,
        storage_id: str,
        key: str,
        backend_upload_id: str | None,
        lifetime_ns: int,
    ) -> int:
        """Keep a started upload; returns when it expires."""
        now = now_ns()
        async with self._db.write() as conn:
            await conn.execute(
                multipart_uploads.insert().values(
                    id=upload_id, object_id=object_id, flow_id=flow_id, storage_id=storage_id,
                    storage_key=key, backend_upload_id=backend_upload_id, created_ns=now,
                    expires_ns=now + lifetime_ns,
                )
            )  # fmt: skip
        return now + lifetime_ns

    async def find(self, upload_id: str, flow_id: str, object_id: str) -> Any:
        """The upload ``upload_id`` of that Flow's Object; NOT_FOUND otherwise (also
        once completed or aborted)."""
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(multipart_uploads).where(
                        multipart_uploads.c.id == upload_id,
                        multipart_uploads.c.flow_id == flow_id,
                        multipart_uploads.c.object_id == object_id,
                    )
                )
            ).first()
        if row is None:
            raise NotFound(
                f"no multipart upload {upload_id!r} of object {object_id} on flow {flow_id}",
                reason=Reason.MULTIPART_UPLOAD_NOT_FOUND,
                metadata={"uploadId": upload_id},
            )
        return row

    async def forget(self, upload_id: str) -> bool:
        """Drop the record (completed or aborted); False if it was gone already."""
        async with self._db.write() as conn:
            gone = await conn.execute(
                delete(multipart_uploads).where(multipart_uploads.c.id == upload_id)
            )
            return bool(gone.rowcount)

    async def expired(self, *, limit: int) -> list[Any]:
        """Uploads past their expiry, oldest first."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(multipart_uploads)
                .where(multipart_uploads.c.expires_ns < now_ns())
                .order_by(multipart_uploads.c.expires_ns)
                .limit(limit)
            )
            return list(rows)
