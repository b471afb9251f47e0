"""ObjectService: an Object with the Flows using it (paged, filtered by Flow tags), its
properties and URLs; instances added (uncontrolled URLs, copies on another backend made
by the service) and removed, never the last one."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import httpx

from helpers.factories import video_flow
from helpers.objects import upload_objects
from helpers.status import failure
from tams.v1 import (
    flows_pb2,
    flows_pb2_grpc,
    objects_pb2,
    objects_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
)
from tams_server.app import RunningServer

ObjectStub = objects_pb2_grpc.ObjectServiceStub


async def new_flow(channel: grpc.aio.Channel, **fields: object) -> str:
    flow = video_flow(**fields)
    await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    return flow.id


async def register(channel: grpc.aio.Channel, flow_id: str, **fields: object) -> None:
    response = await segments_pb2_grpc.SegmentServiceStub(channel).RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=flow_id,
            segments=[segments_pb2.SegmentPost(**fields)],  # type: ignore[arg-type]
        )
    )
    assert list(response.failed_segments) == []


async def get(stub: ObjectStub, object_id: str, **fields: object) -> objects_pb2.GetObjectResponse:
    return await stub.GetObject(objects_pb2.GetObjectRequest(object_id=object_id, **fields))  # type: ignore[arg-type]


async def body_of(url: str) -> bytes:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
        response.raise_for_status()
        return response.content


async def test_an_object_and_the_flows_using_it(channel: grpc.aio.Channel) -> None:
    stub = ObjectStub(channel)
    owner = await new_flow(channel)
    tag = uuid.uuid4().hex
    reusers = sorted([await new_flow(channel, tags={"edit": tag}) for _ in range(2)])
    body = uuid.uuid4().bytes * 10
    [object_id] = await upload_objects(channel, owner, body=body)
    [init_id] = await upload_objects(channel, owner, body=b"init", content_type="video/mp4")

    missing = await failure(get(stub, object_id))  # allocated, but no Segment uses it yet
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "OBJECT_NOT_FOUND")

    await register(
        channel, owner, object_id=object_id, timerange="[0:0_2:0)", key_frame_count=1,
        init_object_id=init_id,
    )  # fmt: skip
    for flow_id in reusers:
        await register(
            channel, flow_id, object_id=object_id, timerange="[5:0_7:0)", ts_offset="5:0"
        )

    found = (await get(stub, object_id)).object
    assert list(found.referenced_by_flows) == sorted([owner, *reusers])
    assert found.first_referenced_by_flow == owner
    assert (found.timerange, found.key_frame_count) == ("[0:0_2:0)", 1)
    [url] = found.get_urls
    assert await body_of(url.url) == body
    assert found.init_object.id == init_id
    assert await body_of(found.init_object.get_urls[0].url) == b"init"

    first = await get(stub, object_id, page_size=2)
    second = await get(stub, object_id, page_size=2, page_token=first.next_page_token)
    assert [*first.object.referenced_by_flows, *second.object.referenced_by_flows] == sorted(
        [owner, *reusers]
    )
    assert second.next_page_token == ""
    tagged = await get(stub, object_id, flow_tags=[{"name": "edit", "values": [tag]}])
    assert list(tagged.object.referenced_by_flows) == reusers
    none = await get(
        stub, object_id, get_url_options=objects_pb2.GetUrlOptions(accept_get_urls_set=True)
    )
    assert list(none.object.get_urls) == []

    init = (await get(stub, init_id)).object
    assert not init.HasField("timerange")  # init Objects have none (TAMS)
    # Reuse inherits the init Object, so every Flow using the media uses it too.
    assert list(init.referenced_by_flows) == sorted([owner, *reusers])


async def test_uncontrolled_instances(channel: grpc.aio.Channel) -> None:
    stub = ObjectStub(channel)
    flow_id = await new_flow(channel)
    [object_id] = await upload_objects(channel, flow_id)
    await register(channel, flow_id, object_id=object_id, timerange="[0:0_1:0)")

    def uncontrolled(url: str, label: str) -> objects_pb2.AddObjectInstanceRequest:
        return objects_pb2.AddObjectInstanceRequest(
            object_id=object_id, uncontrolled=objects_pb2.UncontrolledInstance(url=url, label=label)
        )

    added = await stub.AddObjectInstance(uncontrolled("https://cdn.example/o", "cdn"))
    assert [(u.label, u.presigned) for u in added.object.get_urls] == [
        ("local", True), ("cdn", False)
    ]  # fmt: skip
    listing = await segments_pb2_grpc.SegmentServiceStub(channel).ListSegments(
        segments_pb2.ListSegmentsRequest(flow_id=flow_id)
    )
    assert [u.label for u in listing.segments[0].get_urls] == ["local", "cdn"]

    again = await failure(stub.AddObjectInstance(uncontrolled("https://other.example/o", "cdn")))
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSTANCE_EXISTS")
    backend_label = await failure(
        stub.AddObjectInstance(uncontrolled("https://x.example", "local"))
    )
    assert backend_label.code == grpc.StatusCode.INVALID_ARGUMENT
    no_label = await failure(stub.AddObjectInstance(uncontrolled("https://x.example", "")))
    assert no_label.fields == ["uncontrolled.label"]
    neither = await failure(
        stub.AddObjectInstance(objects_pb2.AddObjectInstanceRequest(object_id=object_id))
    )
    assert neither.fields == ["instance"]
    unknown = await failure(
        stub.AddObjectInstance(
            objects_pb2.AddObjectInstanceRequest(
                object_id="no-such-object",
                uncontrolled=objects_pb2.UncontrolledInstance(url="https://x", label="x"),
            )
        )
    )
    assert unknown.code == grpc.StatusCode.NOT_FOUND

    remove = objects_pb2.DeleteObjectInstanceRequest(object_id=object_id, label="cdn")
    await stub.DeleteObjectInstance(remove)
    assert [u.label for u in (await get(stub, object_id)).object.get_urls] == ["local"]
    gone = await failure(stub.DeleteObjectInstance(remove))
    assert (gone.code, gone.reason) == (grpc.StatusCode.NOT_FOUND, "INSTANCE_NOT_FOUND")


async def test_copies_on_another_backend(two_backends: RunningServer) -> None:
    async with grpc.aio.insecure_channel(two_backends.grpc_target) as channel:
        stub = ObjectStub(channel)
        backends = await storage_pb2_grpc.StorageServiceStub(channel).ListStorageBackends(
            storage_pb2.ListStorageBackendsRequest()
        )
        ids = {b.label: b.id for b in backends.storage_backends}
        flow_id = await new_flow(channel)
        body = uuid.uuid4().bytes * 100
        [object_id] = await upload_objects(channel, flow_id, body=body)  # to S3, the default
        await register(channel, flow_id, object_id=object_id, timerange="[0:0_1:0)")

        def to(storage_id: str) -> objects_pb2.AddObjectInstanceRequest:
            return objects_pb2.AddObjectInstanceRequest(object_id=object_id, storage_id=storage_id)

        copied = (await stub.AddObjectInstance(to(ids["local"]))).object
        assert [u.label for u in copied.get_urls] == ["cloud", "local"]
        cloud_url, local_url = (u.url for u in copied.get_urls)
        assert await body_of(local_url) == body  # the service copied the bytes itself

        twice = await failure(stub.AddObjectInstance(to(ids["local"])))
        assert (twice.code, twice.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION, "INSTANCE_EXISTS"
        )  # fmt: skip
        unknown = await failure(stub.AddObjectInstance(to(str(uuid.uuid4()))))
        assert (unknown.code, unknown.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["storage_id"])

        def remove(storage_id: str) -> objects_pb2.DeleteObjectInstanceRequest:
            return objects_pb2.DeleteObjectInstanceRequest(
                object_id=object_id, storage_id=storage_id
            )

        await stub.DeleteObjectInstance(remove(ids["cloud"]))
        async with httpx.AsyncClient() as http:
            assert (await http.get(cloud_url)).status_code == 404  # the bytes left S3
        left = (await get(stub, object_id)).object
        assert [u.label for u in left.get_urls] == ["local"]
        assert await body_of(left.get_urls[0].url) == body
        last = await failure(stub.DeleteObjectInstance(remove(ids["local"])))
        assert (last.code, last.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "LAST_INSTANCE")
        assert await body_of(left.get_urls[0].url) == body


async def test_a_copy_made_twice_at_once_is_kept(two_backends: RunningServer) -> None:
    """Two calls copy the Object to the same backend at once: one records its copy, the
    other is refused, and the refused one's undo leaves the recorded copy's bytes."""
    async with grpc.aio.insecure_channel(two_backends.grpc_target) as channel:
        stub = ObjectStub(channel)
        backends = await storage_pb2_grpc.StorageServiceStub(channel).ListStorageBackends(
            storage_pb2.ListStorageBackendsRequest()
        )
        local = next(b.id for b in backends.storage_backends if b.label == "local")
        flow_id = await new_flow(channel)
        body = uuid.uuid4().bytes * 100
        [object_id] = await upload_objects(channel, flow_id, body=body)  # to S3, the default
        await register(channel, flow_id, object_id=object_id, timerange="[0:0_1:0)")
        request = objects_pb2.AddObjectInstanceRequest(object_id=object_id, storage_id=local)
        outcomes = await asyncio.gather(
            stub.AddObjectInstance(request), stub.AddObjectInstance(request),
            return_exceptions=True,
        )  # fmt: skip
        [refused] = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
        assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
        urls = {u.label: u.url for u in (await get(stub, object_id)).object.get_urls}
        assert await body_of(urls["local"]) == body
