"""A live Segment keeps a copy of where its Object is (``store.object_places``), which
listings read instead of the Object's row: every change of an Object's instances, and
a registration that gives a known Object new uncontrolled URLs, shows in the listings
of every Flow using it, and no Segment's copy ever disagrees with its Object."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from helpers.objects import new_flow, upload_objects
from helpers.segments import register as register_posts
from tams.v1 import (
    flows_pb2_grpc,
    objects_pb2,
    objects_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
)
from tams_server.app import RunningServer

_PAIRS = text(
    "SELECT s.object_id, s.object_storage_id, o.storage_id, s.object_storage_key,"
    " o.storage_key, s.object_get_urls, o.get_urls, s.object_extra_instances,"
    " o.extra_instances FROM segments s JOIN objects o ON o.id = s.object_id"
)


async def disagreeing(database_url: str) -> list[Sequence[Any]]:
    """Every live Segment whose copy of its Object's place differs from the Object."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(_PAIRS)).all()
    finally:
        await engine.dispose()

    def urls(value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str) else value

    return [
        row
        for row in rows
        if (row[1], row[3], urls(row[5]), row[7]) != (row[2], row[4], urls(row[6]), row[8])
    ]


async def register(
    channel: grpc.aio.Channel, flow_id: str, *posts: segments_pb2.SegmentPost
) -> None:
    """Register ``posts``; every one must be stored."""
    stub = segments_pb2_grpc.SegmentServiceStub(channel)
    response = await register_posts(stub, flow_id, *posts)
    assert list(response.failed_segments) == []


async def listed_labels(channel: grpc.aio.Channel, flow_id: str) -> list[list[str]]:
    """The get_urls labels of each Segment of the Flow, by the unary page and by the
    stream (the two listings read the same rows)."""
    stub = segments_pb2_grpc.SegmentServiceStub(channel)
    page = await stub.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    by_page = [[u.label for u in s.get_urls] for s in page.segments]
    streamed = [
        [u.label for u in s.get_urls]
        async for message in stub.StreamSegments(
            segments_pb2.StreamSegmentsRequest(flow_id=flow_id)
        )
        for s in message.segments
    ]
    assert streamed == by_page
    return by_page


def uncontrolled(object_id: str, label: str) -> objects_pb2.AddObjectInstanceRequest:
    return objects_pb2.AddObjectInstanceRequest(
        object_id=object_id,
        uncontrolled=objects_pb2.UncontrolledInstance(
            url=f"https://{label}.example/o", label=label
        ),
    )


async def test_uncontrolled_instances_show_in_every_flow_using_the_object(
    channel: grpc.aio.Channel, flows: flows_pb2_grpc.FlowServiceStub, database_url: str
) -> None:
    stub = objects_pb2_grpc.ObjectServiceStub(channel)
    owner, reuser = await new_flow(flows), await new_flow(flows)
    [object_id] = await upload_objects(channel, owner)
    post = segments_pb2.SegmentPost(object_id=object_id, timerange="[0:0_1:0)")
    await register(channel, owner, post)
    await register(channel, reuser, post)

    await stub.AddObjectInstance(uncontrolled(object_id, "cdn"))
    for flow_id in (owner, reuser):
        assert await listed_labels(channel, flow_id) == [["local", "cdn"]]
    assert await disagreeing(database_url) == []

    await stub.DeleteObjectInstance(
        objects_pb2.DeleteObjectInstanceRequest(object_id=object_id, label="cdn")
    )
    for flow_id in (owner, reuser):
        assert await listed_labels(channel, flow_id) == [["local"]]
    assert await disagreeing(database_url) == []


async def test_a_registration_giving_new_urls_updates_earlier_segments(
    channel: grpc.aio.Channel, flows: flows_pb2_grpc.FlowServiceStub, database_url: str
) -> None:
    """An external Object first registered with one URL, then reused by another Flow
    that names a second: both Flows list both."""
    first, second = await new_flow(flows), await new_flow(flows)
    object_id = f"external-{first}"

    def post(*labels: str) -> segments_pb2.SegmentPost:
        return segments_pb2.SegmentPost(
            object_id=object_id, timerange="[0:0_1:0)",
            get_urls=[
                segments_pb2.UncontrolledUrl(url=f"https://{label}.example/o", label=label)
                for label in labels
            ],
        )  # fmt: skip

    await register(channel, first, post("origin"))
    assert await listed_labels(channel, first) == [["origin"]]
    await register(channel, second, post("origin", "mirror"))
    for flow_id in (first, second):
        assert await listed_labels(channel, flow_id) == [["origin", "mirror"]]
    assert await disagreeing(database_url) == []


async def test_copies_on_other_backends_show_in_listings(
    two_backends: RunningServer, database_url: str
) -> None:
    async with grpc.aio.insecure_channel(two_backends.grpc_target) as channel:
        stub = objects_pb2_grpc.ObjectServiceStub(channel)
        backends = await storage_pb2_grpc.StorageServiceStub(channel).ListStorageBackends(
            storage_pb2.ListStorageBackendsRequest()
        )
        ids = {b.label: b.id for b in backends.storage_backends}
        flow_id = await new_flow(flows_pb2_grpc.FlowServiceStub(channel))
        object_ids = await upload_objects(channel, flow_id, 2)  # to S3, the default
        await register(
            channel, flow_id,
            *(segments_pb2.SegmentPost(object_id=oid, timerange=f"[{i}:0_{i + 1}:0)")
              for i, oid in enumerate(object_ids)),
        )  # fmt: skip
        copied = object_ids[0]
        await stub.AddObjectInstance(
            objects_pb2.AddObjectInstanceRequest(object_id=copied, storage_id=ids["local"])
        )
        assert await listed_labels(channel, flow_id) == [["cloud", "local"], ["cloud"]]
        assert await disagreeing(database_url) == []

        # The first copy goes: the further one takes its place.
        await stub.DeleteObjectInstance(
            objects_pb2.DeleteObjectInstanceRequest(object_id=copied, storage_id=ids["cloud"])
        )
        assert await listed_labels(channel, flow_id) == [["local"], ["cloud"]]
        assert await disagreeing(database_url) == []

        # A copy back on the first backend, and the other copy removed.
        await stub.AddObjectInstance(
            objects_pb2.AddObjectInstanceRequest(object_id=copied, storage_id=ids["cloud"])
        )
        await stub.DeleteObjectInstance(
            objects_pb2.DeleteObjectInstanceRequest(object_id=copied, storage_id=ids["local"])
        )
        assert await listed_labels(channel, flow_id) == [["cloud"], ["cloud"]]
        assert await disagreeing(database_url) == []


async def test_an_object_allocated_by_its_first_segment_is_listed_where_it_is(
    channel: grpc.aio.Channel, flows: flows_pb2_grpc.FlowServiceStub, database_url: str
) -> None:
    """The usage guide's registration before upload: the listing's URL is the one the
    Object itself gives (same backend and key)."""
    flow_id = await new_flow(flows)
    object_id = f"later-{flow_id}"
    response = await segments_pb2_grpc.SegmentServiceStub(channel).RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=flow_id,
            segments=[segments_pb2.SegmentPost(object_id=object_id, timerange="[0:0_1:0)")],
            allocate_unknown_objects=True,
        )
    )
    assert list(response.failed_segments) == []
    page = await segments_pb2_grpc.SegmentServiceStub(channel).ListSegments(
        segments_pb2.ListSegmentsRequest(flow_id=flow_id)
    )
    found = await objects_pb2_grpc.ObjectServiceStub(channel).GetObject(
        objects_pb2.GetObjectRequest(object_id=object_id)
    )
    listed = [(u.label, u.url.split("?")[0]) for u in page.segments[0].get_urls]
    assert listed == [(u.label, u.url.split("?")[0]) for u in found.object.get_urls]
    assert listed[0][1].endswith(object_id)
    assert await disagreeing(database_url) == []
