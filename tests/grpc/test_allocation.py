"""Storage allocation: new Objects for a Flow, streamed in batches with upload URLs
that work (local backend through this server's HTTP side, S3 through moto)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from conftest import S3_REGION
from helpers.factories import new_id, video_flow
from helpers.objects import allocate, new_flow
from helpers.servers import own_server
from helpers.status import failure
from tams.v1 import flows_pb2, flows_pb2_grpc, storage_pb2, storage_pb2_grpc
from tams_server.app import RunningServer
from tams_server.objects.s3_presign import Credentials, S3Presigner

StorageStub = storage_pb2_grpc.StorageServiceStub


@pytest.fixture(scope="session")
def storage(channel: grpc.aio.Channel) -> StorageStub:
    return storage_pb2_grpc.StorageServiceStub(channel)


async def test_allocated_urls_take_the_bytes(
    storage: StorageStub, flows: flows_pb2_grpc.FlowServiceStub, running: RunningServer
) -> None:
    flow_id = await new_flow(flows)
    allocated = await allocate(storage, flow_id=flow_id, limit=3)
    assert len({a.object_id for a in allocated}) == 3
    first = allocated[0]
    assert first.put_url.content_type == "video/mp2t"  # the flow's container
    assert first.presigned
    assert f"/{flow_id}/" in first.put_url.url
    assert first.put_url.url.split("?")[0].endswith(first.object_id)
    body = uuid.uuid4().bytes * 100
    async with httpx.AsyncClient() as http:
        put = await http.put(
            first.put_url.url, content=body, headers={"Content-Type": first.put_url.content_type}
        )
        assert put.status_code == 200
        key = first.put_url.url.split("/_objects/")[1].split("?")[0]
        got = await http.get(
            running.objects.url("GET", httpx.URL("/" + key).path[1:], expires_s=60)
        )
    assert got.content == body


async def test_client_chosen_ids_and_batches(
    storage: StorageStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    flow_id = await new_flow(flows)
    call = storage.AllocateStorage(storage_pb2.AllocateStorageRequest(flow_id=flow_id, limit=1200))
    sizes = [len(message.media_objects) async for message in call]
    assert sizes == [500, 500, 200]
    chosen = [f"replica/{uuid.uuid4().hex}", f"replica/{uuid.uuid4().hex}"]
    allocated = await allocate(storage, flow_id=flow_id, object_ids=chosen)
    assert [a.object_id for a in allocated] == chosen
    again = await failure(allocate(storage, flow_id=flow_id, object_ids=chosen[1:]))
    assert (again.code, again.reason) == (grpc.StatusCode.ALREADY_EXISTS, "OBJECT_IDS_TAKEN")


async def test_server_chosen_ids_follow_the_order_of_allocation(
    storage: StorageStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    # Time-ordered (UUIDv7) ids: Objects allocated together sit together in the
    # indexes keyed by Object id, across the batches of a call and from call to call.
    flow_id = await new_flow(flows)
    ids = [a.object_id for a in await allocate(storage, flow_id=flow_id, limit=1200)]
    ids += [a.object_id for a in await allocate(storage, flow_id=flow_id, limit=3)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(object_id).version for object_id in ids} == {7}
    assert all(str(uuid.UUID(object_id)) == object_id for object_id in ids)  # canonical form


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"limit": 0}, "limit", "INVALID_ARGUMENT"),
        ({"limit": 10_001}, "limit", "INVALID_ARGUMENT"),
        ({"limit": 1, "object_ids": ["x"]}, "limit", "INVALID_ARGUMENT"),
        ({"object_ids": ["a/../b"]}, "object_ids[0]", "INVALID_ARGUMENT"),
        ({"object_ids": ["a", "a"]}, "object_ids[1]", "INVALID_ARGUMENT"),
        ({"limit": 1, "storage_id": str(uuid.uuid4())}, "storage_id", "UNKNOWN_STORAGE"),
        ({"limit": 1, "storage_id": "nope"}, "storage_id", "INVALID_ID"),
        ({"limit": 1, "content_type": "mp4"}, "content_type", "INVALID_ARGUMENT"),
        ({"limit": 1, "presigned": False}, "presigned", "INVALID_ARGUMENT"),
    ],
)
async def test_bad_requests_allocate_nothing(
    storage: StorageStub,
    flows: flows_pb2_grpc.FlowServiceStub,
    fields: dict[str, object],
    field: str,
    reason: str,
) -> None:
    flow_id = await new_flow(flows)
    result = await failure(allocate(storage, flow_id=flow_id, **fields))
    assert (result.code, result.reason, result.fields) == (
        grpc.StatusCode.INVALID_ARGUMENT, reason, [field],
    )  # fmt: skip


async def test_flow_state_is_checked(
    storage: StorageStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    result = await failure(allocate(storage, flow_id=new_id(), limit=1))
    assert (result.code, result.reason) == (grpc.StatusCode.NOT_FOUND, "FLOW_NOT_FOUND")
    frozen = await new_flow(flows, read_only=True)
    result = await failure(allocate(storage, flow_id=frozen, limit=1))
    assert result.reason == "FLOW_READ_ONLY"
    bare = video_flow()
    bare.ClearField("container")
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=bare))
    result = await failure(allocate(storage, flow_id=bare.id, limit=1))
    assert (result.code, result.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION, "FLOW_HAS_NO_CONTAINER",
    )  # fmt: skip
    init = await allocate(storage, flow_id=bare.id, limit=1, content_type="video/mp4")
    assert init[0].put_url.content_type == "video/mp4"  # an init object names its own type


@pytest.fixture
async def s3_server(
    tmp_path: Path, database_url: str, s3_backend: str
) -> AsyncIterator[RunningServer]:
    storage = (s3_backend,)
    async with own_server(tmp_path, database_url, run_workers=False, storage=storage) as stubs:
        yield stubs.running


async def test_s3_allocation_uploads_to_the_bucket(s3_server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(s3_server.grpc_target) as channel:
        flow_id = await new_flow(flows_pb2_grpc.FlowServiceStub(channel))
        (allocated,) = await allocate(
            storage_pb2_grpc.StorageServiceStub(channel), flow_id=flow_id, limit=1
        )
    assert "X-Amz-Signature=" in allocated.put_url.url
    body = b"segment bytes" * 1000
    async with httpx.AsyncClient() as http:
        put = await http.put(allocated.put_url.url, content=body)
        assert put.status_code == 200
        path = httpx.URL(allocated.put_url.url).path  # /{bucket}/{flow}/{y}/{m}/{d}/{object}
        bucket, key = path.lstrip("/").split("/", 1)
        presigner = S3Presigner(
            f"{http_origin(allocated.put_url.url)}", S3_REGION, Credentials("k", "s")
        )
        got = await http.get(presigner.url("GET", bucket, key, expires_s=60))
        assert got.content == body
        assert key.startswith(f"{flow_id}/")
        assert key.endswith(allocated.object_id)


def http_origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}"
