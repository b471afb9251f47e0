"""Flow delete requests: deletions too large for one call (a long Flow, a wide
timerange), recorded in the database and finished in batches by a background worker.

Each batch is its own transaction and moves ``next_start_ns`` forward, so a worker
that stops at any point (a restart, a crash) leaves a request that the next worker
resumes where it stopped. A lease lets several replicas share the work safely.

By ``auth_classes`` (``domain.access``), a request exists for a caller when its Flow
does; once the Flow is deleted for good its classes are gone with it, so the request
stays visible only to whoever made it (polling it to the end) and to unrestricted
callers.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, false, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.access import Access, classes_of
from tams_server.domain.errors import NotFound, Reason
from tams_server.domain.events import SegmentsDeleted, SourceDeleted
from tams_server.domain.models import FlowDeleteRequest
from tams_server.domain.queries import Page
from tams_server.domain.tags import tags_from_json
from tams_server.domain.timerange import format_timerange, from_bounds
from tams_server.store.changes import record
from tams_server.store.clock import now_ns
from tams_server.store.engine import Database
from tams_server.store.extent import refresh_extent
from tams_server.store.paging import PageTokenCodec, fingerprint, read_page, tams_order
from tams_server.store.releases import Removed, delete_segments_releasing
from tams_server.store.schema import deleted_segments, flow_tags, flows, segments, sources
from tams_server.store.schema import flow_delete_requests as requests
from tams_server.store.tags import readable_clause

FINISHED_KEPT_NS = 3600 * 10**9  # a finished request stays readable for an hour
LEASE_NS = 60 * 10**9
IN_PROGRESS = ("created", "started")


async def count_covered(
    conn: AsyncConnection,
    flow_id: str,
    start_ns: int,
    end_ns: int,
    object_id: str | None,
    *,
    up_to: int,
) -> int:
    """How many Segments ``[start_ns, end_ns)`` covers, counting no further than ``up_to``."""
    inside = select(1).where(*covered(flow_id, start_ns, end_ns, object_id)).limit(up_to)
    return int(await conn.scalar(select(func.count()).select_from(inside.subquery())) or 0)


def covered(flow_id: str, start_ns: int, end_ns: int, object_id: str | None) -> list[Any]:
    """Conditions on Segments of a Flow that lie wholly inside ``[start_ns, end_ns)``."""
    c = segments.c
    conditions = [c.flow_id == flow_id, c.start_ns >= start_ns, c.end_ns <= end_ns]
    if object_id is not None:
        conditions.append(c.object_id == object_id)
    return conditions


async def create_request(
    conn: AsyncConnection,
    *,
    flow_id: str,
    start_ns: int,
    end_ns: int,
    object_id: str | None,
    delete_flow: bool,
    created_by: str | None,
) -> FlowDeleteRequest:
    """Record a deletion for the worker, inside the caller's transaction."""
    now = now_ns()
    request_id = str(uuid.uuid4())
    await conn.execute(
        insert(requests).values(
            id=request_id,
            flow_id=flow_id,
            timerange_to_delete=format_timerange(from_bounds(start_ns, end_ns)),
            start_ns=start_ns,
            end_ns=end_ns,
            object_id=object_id,
            delete_flow=delete_flow,
            status="created",
            next_start_ns=start_ns,
            created_ns=now,
            created_by=created_by,
            updated_ns=now,
        )
    )
    return await _load(conn, request_id)


async def delete_flow_now(conn: AsyncConnection, flow_id: str, source_id: str) -> None:
    """Remove a Flow whose Segments are gone, and its Source if no Flow is left
    (TAMS: Sources live as long as their Flows)."""
    await delete_segments_releasing(conn, segments, [segments.c.flow_id == flow_id])
    await delete_segments_releasing(conn, deleted_segments, [deleted_segments.c.flow_id == flow_id])
    await conn.execute(delete(flows).where(flows.c.id == flow_id))
    remaining = await conn.scalar(
        select(func.count()).select_from(flows).where(flows.c.source_id == source_id)
    )
    if not remaining:
        gone = (
            await conn.execute(
                delete(sources).where(sources.c.id == source_id).returning(sources.c.tags)
            )
        ).first()
        if gone is not None:
            record(conn, SourceDeleted(source_id, classes_of(tags_from_json(gone.tags))))


async def _record_deleted(conn: AsyncConnection, flow_id: str, removed: Removed) -> None:
    """Record the event of Segments a request's batch removed."""
    flow = (
        await conn.execute(select(flows.c.source_id, flows.c.tags).where(flows.c.id == flow_id))
    ).first()
    if flow is not None and removed.deleted:
        classes = classes_of(tags_from_json(flow.tags))
        record(
            conn,
            SegmentsDeleted(flow_id, flow.source_id, classes, removed.start_ns, removed.end_ns),
        )


class DeletionStore:
    """Reads of requests, and the worker's steps."""

    def __init__(
        self, database: Database, tokens: PageTokenCodec, *, lease_ns: int = LEASE_NS
    ) -> None:
        self._db = database
        self._tokens = tokens
        self._lease_ns = lease_ns

    async def get(
        self, request_id: str, *, access: Access | None = None, caller: str | None = None
    ) -> FlowDeleteRequest:
        """One request; NOT_FOUND when unknown, expired, or hidden from the ``caller``
        (its subject) by ``access``."""
        async with self._db.read() as conn:
            return await _load(conn, request_id, *_visible(access, caller))

    async def find(
        self,
        *,
        by_expiry: bool,
        reverse: bool,
        page_size: int,
        page_token: str,
        access: Access | None = None,
        caller: str | None = None,
    ) -> Page[FlowDeleteRequest]:
        """Requests not yet expired that ``access`` lets the ``caller`` see, newest
        first (TAMS order)."""
        sort = tams_order(
            label=requests.c.id,
            date=requests.c.expiry_ns if by_expiry else requests.c.created_ns,
            unique=requests.c.id,
            by_label=False,
            reverse=reverse,
        )
        live = (requests.c.expiry_ns.is_(None)) | (requests.c.expiry_ns > now_ns())
        async with self._db.read() as conn:
            rows, token = await read_page(
                conn,
                select(requests).where(live, *_visible(access, caller)),
                sort,
                tokens=self._tokens,
                query_fingerprint=fingerprint("flow-delete-requests", by_expiry, reverse),
                page_size=page_size,
                page_token=page_token,
            )
        return Page([_request(row) for row in rows], token, page_size)

    async def claim(self) -> str | None:
        """Take the oldest unfinished request no other worker holds; forget expired ones."""
        now = now_ns()
        claimable = select(requests.c.id).where(
            requests.c.status.in_(IN_PROGRESS),
            (requests.c.lease_until_ns.is_(None)) | (requests.c.lease_until_ns < now),
        )
        # The worker asks several times a second and almost always finds nothing:
        # find out in one statement outside any transaction, and take the write
        # transaction (SQLite's one writer) only when there is work.
        expired = select(requests.c.id).where(requests.c.expiry_ns < now)
        async with self._db.read(snapshot=False) as conn:
            if (await conn.execute(claimable.union_all(expired).limit(1))).first() is None:
                return None
        async with self._db.write() as conn:
            await conn.execute(delete(requests).where(requests.c.expiry_ns < now))
            candidate = await conn.scalar(claimable.order_by(requests.c.created_ns).limit(1))
            if candidate is None:
                return None
            taken = await conn.execute(
                update(requests)
                .where(
                    requests.c.id == candidate,
                    (requests.c.lease_until_ns.is_(None)) | (requests.c.lease_until_ns < now),
                )
                .values(lease_until_ns=now + self._lease_ns)
            )
            return str(candidate) if taken.rowcount == 1 else None

    async def advance(self, request_id: str, batch_size: int) -> bool:
        """Delete the next batch of a claimed request; True once it is finished."""
        async with self._db.write() as conn:
            row = (await conn.execute(select(requests).where(requests.c.id == request_id))).first()
            if row is None or row.status not in IN_PROGRESS:
                return True
            now = now_ns()
            starts = list(
                await conn.scalars(
                    select(segments.c.start_ns)
                    .where(
                        *covered(row.flow_id, row.start_ns, row.end_ns, row.object_id),
                        segments.c.start_ns >= row.next_start_ns,
                    )
                    .order_by(segments.c.start_ns)
                    .limit(batch_size)
                )
            )
            if starts:
                removed = await delete_segments_releasing(
                    conn,
                    segments,
                    [
                        *covered(row.flow_id, row.start_ns, row.end_ns, row.object_id),
                        segments.c.start_ns >= starts[0],
                        segments.c.start_ns <= starts[-1],
                    ],
                )
                await refresh_extent(conn, row.flow_id)
                await _record_deleted(conn, row.flow_id, removed)
                await conn.execute(
                    update(requests)
                    .where(requests.c.id == request_id)
                    .values(
                        status="started",
                        next_start_ns=starts[-1] + 1,
                        updated_ns=now,
                        lease_until_ns=now + self._lease_ns,
                    )
                )
                return False
            if row.delete_flow:
                source_id = await conn.scalar(
                    select(flows.c.source_id).where(flows.c.id == row.flow_id)
                )
                if source_id is not None:
                    await delete_flow_now(conn, row.flow_id, source_id)
            await conn.execute(
                update(requests)
                .where(requests.c.id == request_id)
                .values(
                    status="done",
                    next_start_ns=row.end_ns,
                    updated_ns=now,
                    expiry_ns=now + FINISHED_KEPT_NS,
                    lease_until_ns=None,
                )
            )
            return True

    async def fail(self, request_id: str, error: dict[str, Any]) -> None:
        """Record that a request cannot go on."""
        now = now_ns()
        async with self._db.write() as conn:
            await conn.execute(
                update(requests)
                .where(requests.c.id == request_id)
                .values(status="error", error=error, updated_ns=now, lease_until_ns=None)
            )


def _visible(access: Access | None, caller: str | None) -> list[ColumnElement[bool]]:
    """WHERE clauses of the requests a caller restricted by ``access`` may see: those
    of Flows it may read, and, of Flows gone for good, those it made itself."""
    if access is None:
        return []
    present = exists().where(flows.c.id == requests.c.flow_id)
    readable = readable_clause(flow_tags, "flow_id", requests.c.flow_id, access)
    made_by_caller = requests.c.created_by == caller if caller is not None else false()
    return [(present & readable) | (~present & made_by_caller)]


async def _load(
    conn: AsyncConnection, request_id: str, *visible: ColumnElement[bool]
) -> FlowDeleteRequest:
    row = (
        await conn.execute(select(requests).where(requests.c.id == request_id, *visible))
    ).first()
    if row is None or (row.expiry_ns is not None and row.expiry_ns < now_ns()):
        raise NotFound(
            f"flow delete request {request_id} not found",
            reason=Reason.FLOW_DELETE_REQUEST_NOT_FOUND,
            metadata={"requestId": request_id},
        )
    return _request(row)


def _request(row: Any) -> FlowDeleteRequest:
    remaining = None
    if row.status in IN_PROGRESS:
        remaining = format_timerange(from_bounds(max(row.next_start_ns, row.start_ns), row.end_ns))
    return FlowDeleteRequest(
        id=row.id,
        flow_id=row.flow_id,
        timerange_to_delete=row.timerange_to_delete,
        delete_flow=row.delete_flow,
        status=row.status,
        timerange_remaining=remaining,
        created_ns=row.created_ns,
        created_by=row.created_by,
        updated_ns=row.updated_ns,
        expiry_ns=row.expiry_ns,
        error=row.error,
    )
