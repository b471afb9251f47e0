"""Allocations that expire without a Segment using them are cleaned up, bytes and
record; an Object that a Segment uses stays."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import httpx

from helpers.factories import video_flow
from tams.v1 import (
    flows_pb2,
    flows_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
)
from tams_server.app import serve
from tams_server.config import Config


async def test_unused_allocations_expire(tmp_path: Path, database_url: str) -> None:
    config = Config(
        grpc_port=0, http_port=0, data_dir=tmp_path, database_url=database_url,
        object_timeout_s=1, janitor_interval_s=0.1, shutdown_grace_s=2.0,
    )  # fmt: skip
    async with serve(config) as running, grpc.aio.insecure_channel(running.grpc_target) as ch:
        flow = video_flow()
        await flows_pb2_grpc.FlowServiceStub(ch).CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        call = storage_pb2_grpc.StorageServiceStub(ch).AllocateStorage(
            storage_pb2.AllocateStorageRequest(flow_id=flow.id, limit=2)
        )
        used, unused = [item async for message in call for item in message.media_objects]
        async with httpx.AsyncClient() as http:
            for allocated in (used, unused):
                response = await http.put(allocated.put_url.url, content=b"media bytes")
                assert response.status_code == 200
        await segments_pb2_grpc.SegmentServiceStub(ch).RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(
                flow_id=flow.id,
                segments=[
                    segments_pb2.SegmentPost(object_id=used.object_id, timerange="[0:0_1:0)")
                ],
            )
        )

        def file_of(allocated: storage_pb2.AllocatedObject) -> Path:
            key = httpx.URL(allocated.put_url.url).path.split("/_objects/", 1)[1]
            return running.objects.path_of(key)

        assert file_of(unused).exists()
        async with asyncio.timeout(20):  # the janitor sweeps every 0.1 s once 1 s has passed
            while file_of(unused).exists():  # noqa: ASYNC110 - the file is the only witness
                await asyncio.sleep(0.05)
        assert file_of(used).exists()
