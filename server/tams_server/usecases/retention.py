"""Retention by tags (TAMS AppNote 0019): one sweep deletes the expired Flows and the
expired Segments of the others, through the same store calls as a client's DELETE, so
the usual events are recorded and Objects no longer used go to the janitor."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tams_server.domain.errors import NotFound
from tams_server.domain.retention import flow_expired, segments_cutoff
from tams_server.domain.timerange import INT64_MIN, tai_offset_s
from tams_server.store.clock import now_ns
from tams_server.store.flows import FlowStore
from tams_server.store.retention import RetentionStore
from tams_server.store.segments import SegmentsToDelete, SegmentStore

log = logging.getLogger("tams_server.retention")

# Who the deletions are recorded as (deleted_by).
RETENTION_ACTOR = "tams-retention"


@dataclass
class Swept:
    """What one sweep deleted."""

    flows: int = 0
    segments: int = 0


class Retention:
    """Deletes what retention tags say has expired."""

    def __init__(
        self, retained: RetentionStore, flows: FlowStore, segments: SegmentStore, *, batch: int
    ) -> None:
        self._retained = retained
        self._flows = flows
        self._segments = segments
        self._batch = batch

    async def sweep(self) -> Swept:
        """One pass over the Flows with retention tags. Another replica sweeping at
        the same time makes some deletions find nothing, which is fine."""
        swept = Swept()
        now = now_ns()
        now_tai = now + tai_offset_s(now // 1_000_000_000) * 1_000_000_000
        for flow in await self._retained.retained_flows():
            try:
                if flow_expired(flow, now):
                    await self._flows.delete(flow.flow_id, soft=False, deleted_by=RETENTION_ACTOR)
                    swept.flows += 1
                    continue
                cutoff = segments_cutoff(flow, now_tai)
                if cutoff is not None:
                    swept.segments += await self._expire_segments(flow.flow_id, cutoff)
            except NotFound:
                continue  # deleted meanwhile
        return swept

    async def _expire_segments(self, flow_id: str, cutoff: int) -> int:
        """Delete the Flow's Segments that end by ``cutoff``, a bounded batch (at most
        the inline limit) per transaction, so none becomes a delete request."""
        deleted = 0
        while (end := await self._retained.batch_end(flow_id, cutoff, self._batch)) is not None:
            count, _ = await self._segments.delete(
                SegmentsToDelete(flow_id, INT64_MIN, end), actor=RETENTION_ACTOR
            )
            if not count:
                break
            deleted += count
        return deleted
