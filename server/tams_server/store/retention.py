"""What retention by tags (``domain.retention``) reads: the Flows that carry a
retention tag, and how far one batch of a Flow's expired Segments reaches."""

from __future__ import annotations

from sqlalchemy import func, select

from tams_server.domain.retention import FLOW_RETENTION_TAG, SEGMENT_RETENTION_TAG, RetainedFlow
from tams_server.domain.tags import tags_from_json
from tams_server.store.engine import Database
from tams_server.store.schema import flow_tags, flows, segments


class RetentionStore:
    """Reads for the retention sweep; the deletions go through the Flow and Segment
    stores, so they record their events as any deletion does."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def retained_flows(self) -> list[RetainedFlow]:
        """The live Flows with a retention tag."""
        tagged = select(flow_tags.c.flow_id).where(
            flow_tags.c.name.in_([SEGMENT_RETENTION_TAG, FLOW_RETENTION_TAG])
        )
        query = select(
            flows.c.id, flows.c.tags, flows.c.metadata_updated_ns, flows.c.segments_updated_ns
        ).where(flows.c.id.in_(tagged), flows.c.deleted_ns.is_(None))
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        retained = []
        for row in rows:
            tags = tags_from_json(row.tags)
            retained.append(
                RetainedFlow(
                    row.id,
                    tags.get(SEGMENT_RETENTION_TAG),
                    tags.get(FLOW_RETENTION_TAG),
                    max(row.metadata_updated_ns, row.segments_updated_ns or 0),
                )
            )
        return retained

    async def batch_end(self, flow_id: str, cutoff_ns: int, limit: int) -> int | None:
        """The end of the first ``limit`` Segments of the Flow that end by
        ``cutoff_ns`` (a span to delete in one go); None when there are none."""
        first = (
            select(segments.c.end_ns)
            .where(
                segments.c.flow_id == flow_id,
                segments.c.start_ns < cutoff_ns,
                segments.c.end_ns <= cutoff_ns,
            )
            .order_by(segments.c.start_ns)
            .limit(limit)
            .subquery()
        )
        async with self._db.read() as conn:
            end = await conn.scalar(select(func.max(first.c.end_ns)))
        return None if end is None else int(end)
