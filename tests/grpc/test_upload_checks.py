"""Registration looks for the bytes of allocated Objects once per batch (all of a
batch's Objects in one look, concurrent requests on S3), and while a stream writes one
batch it looks for the next: whatever the batching, a Segment of an Object never
uploaded is refused (OBJECT_NOT_UPLOADED) and the uploaded ones beside it are stored.
Once seen, an Object's bytes are not looked for again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import grpc
import httpx

from helpers.objects import allocate, new_flow
from helpers.segments import register
from tams.v1 import flows_pb2_grpc, segments_pb2, segments_pb2_grpc, storage_pb2
from tams.v1 import storage_pb2_grpc as storage_grpc
from tams_server.app import RunningServer

SegmentStub = segments_pb2_grpc.SegmentServiceStub


def post(object_id: str, second: int) -> segments_pb2.SegmentPost:
    return segments_pb2.SegmentPost(object_id=object_id, timerange=f"[{second}:0_{second + 1}:0)")


async def put(items: Sequence[storage_pb2.AllocatedObject]) -> None:
    """Upload a few bytes to each allocation's put_url, as a client would."""
    async with httpx.AsyncClient() as http:
        for item in items:
            headers = {"Content-Type": item.put_url.content_type, **item.put_url.headers}
            response = await http.put(item.put_url.url, content=b"\x47" * 188, headers=headers)
            response.raise_for_status()


async def listed(stub: SegmentStub, flow_id: str) -> list[str]:
    response = await stub.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    return [segment.object_id for segment in response.segments]


async def mixed_batch(channel: grpc.aio.Channel) -> None:
    """Six allocations, every other one uploaded, registered in one call: the uploaded
    three are stored, the other three refused, each with its index; once uploaded, those
    register too."""
    flow_id = await new_flow(flows_pb2_grpc.FlowServiceStub(channel))
    segments = SegmentStub(channel)
    items = await allocate(storage_grpc.StorageServiceStub(channel), flow_id=flow_id, limit=6)
    ids = [item.object_id for item in items]
    await put(items[::2])
    response = await register(segments, flow_id, *(post(oid, i) for i, oid in enumerate(ids)))
    assert response.registered_count == 3
    assert [(f.index, f.object_id, f.error.reason) for f in response.failed_segments] == [
        (i, ids[i], "OBJECT_NOT_UPLOADED") for i in (1, 3, 5)
    ]
    assert await listed(segments, flow_id) == ids[::2]
    await put(items[1::2])
    again = await register(segments, flow_id, *(post(ids[i], i) for i in (1, 3, 5)))
    assert (again.registered_count, list(again.failed_segments)) == (3, [])
    assert await listed(segments, flow_id) == ids


async def test_a_batch_of_uploaded_and_never_uploaded_objects_local(
    channel: grpc.aio.Channel,
) -> None:
    await mixed_batch(channel)


async def test_a_batch_of_uploaded_and_never_uploaded_objects_s3(
    two_backends: RunningServer,
) -> None:
    async with grpc.aio.insecure_channel(two_backends.grpc_target) as channel:
        await mixed_batch(channel)


async def test_a_stream_checks_every_batch(
    channel: grpc.aio.Channel, flows: flows_pb2_grpc.FlowServiceStub, segments: SegmentStub
) -> None:
    """Three batches of four, the checks of one overlapping the write of the one before:
    the never-uploaded Objects of the first and last batches are refused with their
    place in the stream, the rest stored."""
    flow_id = await new_flow(flows)
    items = await allocate(storage_grpc.StorageServiceStub(channel), flow_id=flow_id, limit=12)
    never = {2, 9, 11}
    await put([item for i, item in enumerate(items) if i not in never])
    ids = [item.object_id for item in items]

    async def batches() -> AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest]:
        for first in range(0, 12, 4):
            yield segments_pb2.StreamRegisterSegmentsRequest(
                flow_id=flow_id, segments=[post(ids[i], i) for i in range(first, first + 4)]
            )

    response = await segments.StreamRegisterSegments(batches())
    assert response.registered_count == 9
    assert [(f.index, f.error.reason) for f in response.failed_segments] == [
        (i, "OBJECT_NOT_UPLOADED") for i in sorted(never)
    ]
    assert await listed(segments, flow_id) == [ids[i] for i in range(12) if i not in never]


async def test_bytes_once_seen_are_not_looked_for_again(
    channel: grpc.aio.Channel,
    flows: flows_pb2_grpc.FlowServiceStub,
    segments: SegmentStub,
    data_dir: Path,
) -> None:
    """The first registration marks the Object uploaded; reusing it later does not ask
    the backend (here: its file is gone meanwhile, and the reuse is still stored)."""
    flow_id = await new_flow(flows)
    [item] = await allocate(storage_grpc.StorageServiceStub(channel), flow_id=flow_id, limit=1)
    await put([item])
    assert (await register(segments, flow_id, post(item.object_id, 0))).registered_count == 1
    [file] = (data_dir / "objects" / flow_id).glob(f"*/*/*/{item.object_id}")
    file.unlink()
    reuse = segments_pb2.SegmentPost(
        object_id=item.object_id, timerange="[7:0_8:0)", ts_offset="7:0"
    )
    response = await register(segments, flow_id, reuse)
    assert (response.registered_count, list(response.failed_segments)) == (1, [])
