"""BatchAllocateStorage: several allocations for one Flow in one call, all or none,
answered batch by batch with the index of their request."""

from __future__ import annotations

import grpc
import httpx

from helpers.factories import new_id
from helpers.objects import allocate, new_flow
from helpers.status import failure
from tams.v1 import flows_pb2_grpc, storage_pb2, storage_pb2_grpc

StorageStub = storage_pb2_grpc.StorageServiceStub
Request = storage_pb2.AllocateStorageRequest


async def batch(
    stub: StorageStub, flow_id: str, *requests: Request
) -> dict[int, list[storage_pb2.AllocatedObject]]:
    call = stub.BatchAllocateStorage(
        storage_pb2.BatchAllocateStorageRequest(flow_id=flow_id, requests=requests)
    )
    results: dict[int, list[storage_pb2.AllocatedObject]] = {}
    async for message in call:
        results.setdefault(message.request_index, []).extend(message.media_objects)
    return results


async def test_media_and_init_objects_in_one_call(
    channel: grpc.aio.Channel, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    stub = storage_pb2_grpc.StorageServiceStub(channel)
    flow_id = await new_flow(flows)
    init_id = f"init-{new_id()}"
    results = await batch(
        stub, flow_id,
        Request(limit=600),  # more than one streamed batch of 500
        Request(object_ids=[init_id], content_type="video/mp4"),
    )  # fmt: skip
    assert sorted(results) == [0, 1]
    assert len({o.object_id for o in results[0]}) == 600
    assert {o.put_url.content_type for o in results[0]} == {"video/mp2t"}
    [init] = results[1]
    assert (init.object_id, init.put_url.content_type) == (init_id, "video/mp4")
    async with httpx.AsyncClient() as http:
        put = await http.put(
            init.put_url.url, content=b"moov", headers={"Content-Type": "video/mp4"}
        )
        assert put.status_code == 200


async def test_a_bad_request_in_the_batch_allocates_nothing(
    channel: grpc.aio.Channel, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    stub = storage_pb2_grpc.StorageServiceStub(channel)
    flow_id = await new_flow(flows)
    taken = (await allocate(stub, flow_id=flow_id, limit=1))[0].object_id
    fresh = f"fresh-{new_id()}"

    cases = {
        "requests[1].object_ids": [Request(object_ids=[fresh]), Request(object_ids=[fresh])],
        "requests[1].limit": [Request(limit=1), Request(limit=0)],
        "requests[0].storage_id": [Request(limit=1, storage_id=new_id())],
        "requests[0].flow_id": [Request(limit=1, flow_id=new_id())],
        "requests": [Request(limit=6000), Request(limit=6000)],
    }
    for field, requests in cases.items():
        refused = await failure(batch(stub, flow_id, *requests))
        assert refused.code == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in refused.fields, (field, refused.fields)
    empty = await failure(batch(stub, flow_id))
    assert empty.code == grpc.StatusCode.INVALID_ARGUMENT

    clash = await failure(
        batch(stub, flow_id, Request(object_ids=[fresh]), Request(object_ids=[taken]))
    )
    assert clash.code == grpc.StatusCode.ALREADY_EXISTS
    # Nothing of the refused batch was kept: its fresh id is still free.
    assert [o.object_id for o in await allocate(stub, flow_id=flow_id, object_ids=[fresh])] == [
        fresh
    ]

    unknown = await failure(batch(stub, new_id(), Request(limit=1)))
    assert unknown.code == grpc.StatusCode.NOT_FOUND
