"""A Flow's extent (its `timerange`), kept in step with its Segments."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.store.clock import now_ns
from tams_server.store.schema import flows, segments

c = segments.c


async def refresh_extent(conn: AsyncConnection, flow_id: str) -> None:
    """Recompute a Flow's extent after deletions: segments never overlap, so the first
    by start also ends first and the last by start ends last: two index lookups."""
    first = await conn.scalar(select(func.min(c.start_ns)).where(c.flow_id == flow_id))
    last_start = await conn.scalar(select(func.max(c.start_ns)).where(c.flow_id == flow_id))
    end = None
    if last_start is not None:
        end = await conn.scalar(
            select(c.end_ns).where(c.flow_id == flow_id, c.start_ns == last_start)
        )
    await conn.execute(
        update(flows)
        .where(flows.c.id == flow_id)
        .values(timerange_start_ns=first, timerange_end_ns=end, segments_updated_ns=now_ns())
    )
