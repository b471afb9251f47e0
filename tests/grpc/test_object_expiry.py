"""Allocations that expire without a Segment using them are cleaned up, bytes and
record; an Object that a Segment uses stays."""

from __future__ import annotations

from pathlib import Path

import httpx

from helpers.objects import allocate, new_flow
from helpers.servers import QUICK_EXPIRY_S, gone, own_server
from tams.v1 import segments_pb2


async def test_unused_allocations_expire(tmp_path: Path, database_url: str) -> None:
    async with own_server(
        tmp_path, database_url, object_timeout_s=QUICK_EXPIRY_S, janitor_interval_s=0.1
    ) as stubs:
        flow_id = await new_flow(stubs.flows)
        used, unused = await allocate(stubs.storage, flow_id=flow_id, limit=2)
        async with httpx.AsyncClient() as http:
            for allocated in (used, unused):
                response = await http.put(allocated.put_url.url, content=b"media bytes")
                assert response.status_code == 200
        await stubs.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(
                flow_id=flow_id,
                segments=[
                    segments_pb2.SegmentPost(object_id=used.object_id, timerange="[0:0_1:0)")
                ],
            )
        )

        assert stubs.object_file(unused.put_url.url).exists()
        await gone(stubs.object_file(unused.put_url.url))  # the janitor sweeps every 0.1 s
        assert stubs.object_file(used.put_url.url).exists()
