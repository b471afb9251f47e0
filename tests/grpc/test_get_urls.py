"""get_urls on segment listings: bytes uploaded through a put_url come back through the
listed get_url (local backend and S3 through moto), and the spec's filters shape the
list (accept_get_urls, accept_storage_ids, presigned, verbose_storage,
storage_backend_tag.*)."""

from __future__ import annotations

import uuid

import grpc
import httpx

from helpers.factories import new_id, video_flow
from helpers.objects import upload_objects
from helpers.status import failure
from tams.v1 import (
    common_pb2,
    flows_pb2,
    flows_pb2_grpc,
    objects_pb2,
    segments_pb2,
    segments_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
)
from tams_server.app import RunningServer

REGION = "eu-west-2"  # of the two_backends fixture


async def new_flow(channel: grpc.aio.Channel) -> str:
    flow = video_flow()
    await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    return flow.id


async def fetch(url: str) -> bytes:
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
        response.raise_for_status()
        return response.content


async def test_local_round_trip_through_the_listed_url(
    channel: grpc.aio.Channel, segments: segments_pb2_grpc.SegmentServiceStub
) -> None:
    flow_id = await new_flow(channel)
    body = uuid.uuid4().bytes * 500
    [object_id] = await upload_objects(channel, flow_id, body=body)
    [init_id] = await upload_objects(channel, flow_id, body=b"init", content_type="video/mp4")
    await segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=flow_id,
            segments=[
                segments_pb2.SegmentPost(
                    object_id=object_id, timerange="[0:0_2:0)", init_object_id=init_id
                )
            ],
        )
    )
    listed = await segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    [segment] = listed.segments
    [url] = segment.get_urls
    assert (url.label, url.presigned) == ("local", True)
    assert not url.HasField("storage_id")  # not verbose
    assert await fetch(url.url) == body
    [init_url] = segment.init_object.get_urls
    assert await fetch(init_url.url) == b"init"
    streamed = segments.StreamSegments(segments_pb2.StreamSegmentsRequest(flow_id=flow_id))
    [message] = [m async for m in streamed]
    assert await fetch(message.segments[0].get_urls[0].url) == body


async def test_s3_round_trip_and_filters(two_backends: RunningServer) -> None:
    async with grpc.aio.insecure_channel(two_backends.grpc_target) as channel:
        flow_id = await new_flow(channel)
        storage = storage_pb2_grpc.StorageServiceStub(channel)
        segments = segments_pb2_grpc.SegmentServiceStub(channel)
        backends = (
            await storage.ListStorageBackends(storage_pb2.ListStorageBackendsRequest())
        ).storage_backends
        ids = {b.label: b.id for b in backends}
        [allocated] = [
            item
            async for batch in storage.AllocateStorage(
                storage_pb2.AllocateStorageRequest(flow_id=flow_id, limit=1)
            )
            for item in batch.media_objects
        ]
        post = segments_pb2.SegmentPost(
            object_id=allocated.object_id, timerange="[0:0_1:0)",
            get_urls=[segments_pb2.UncontrolledUrl(url="https://cdn.example/x", label="cdn")],
        )  # fmt: skip
        request = segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=[post])
        # Not in the bucket yet: S3 answers the HEAD with 404, and the Segment is refused.
        refused = await segments.RegisterSegments(request)
        assert [f.error.reason for f in refused.failed_segments] == ["OBJECT_NOT_UPLOADED"]
        body = uuid.uuid4().bytes * 1000
        async with httpx.AsyncClient() as http:
            (await http.put(allocated.put_url.url, content=body)).raise_for_status()
        assert (await segments.RegisterSegments(request)).registered_count == 1

        async def urls(**options: object) -> list[objects_pb2.GetUrl]:
            listing = await segments.ListSegments(
                segments_pb2.ListSegmentsRequest(
                    flow_id=flow_id,
                    get_url_options=objects_pb2.GetUrlOptions(**options),  # type: ignore[arg-type]
                )
            )
            return list(listing.segments[0].get_urls)

        everything = await urls()
        assert [(u.label, u.presigned) for u in everything] == [("cloud", True), ("cdn", False)]
        assert "X-Amz-Signature=" in everything[0].url
        assert await fetch(everything[0].url) == body

        def labels(got: list[objects_pb2.GetUrl]) -> list[str]:
            return [u.label for u in got]

        assert labels(await urls(accept_get_urls_set=True)) == []
        assert labels(await urls(accept_get_urls=["cdn"], accept_get_urls_set=True)) == ["cdn"]
        assert labels(await urls(accept_storage_ids=[ids["cloud"]])) == ["cloud"]
        assert labels(await urls(accept_storage_ids=[ids["local"]])) == []
        assert labels(await urls(presigned=True)) == ["cloud"]
        assert labels(await urls(presigned=False)) == ["cdn"]
        hot = common_pb2.TagFilter(name="tier", values=["hot"])
        cold = common_pb2.TagFilter(name="tier", values=["cold"])
        assert labels(await urls(storage_backend_tags=[hot])) == ["cloud"]
        assert labels(await urls(storage_backend_tags=[cold])) == []
        verbose = await urls(verbose_storage=True)
        assert (verbose[0].storage_id, verbose[0].controlled) == (ids["cloud"], True)
        assert (verbose[0].provider, verbose[0].region) == ("aws", REGION)
        assert verbose[0].tags["tier"].string_value == "hot"
        assert (verbose[1].controlled, verbose[1].HasField("storage_id")) == (False, False)
        # The server keeps listed URLs for reuse: what one request's filters or verbosity
        # made is never what another request gets.
        again = await urls()
        assert [(u.label, u.presigned, u.HasField("storage_id")) for u in again] == [
            ("cloud", True, False), ("cdn", False, False),
        ]  # fmt: skip
        assert "X-Amz-Signature=" in again[0].url
        assert labels(await urls(accept_storage_ids=[ids["local"]])) == []
        assert (await urls(verbose_storage=True))[0].storage_id == ids["cloud"]

        bad = await failure(
            segments.ListSegments(
                segments_pb2.ListSegmentsRequest(
                    flow_id=flow_id,
                    get_url_options=objects_pb2.GetUrlOptions(accept_storage_ids=["nope"]),
                )
            )
        )
        assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
        assert bad.fields == ["get_url_options.accept_storage_ids[0]"]


async def test_external_objects_list_their_uncontrolled_urls_only(
    channel: grpc.aio.Channel, segments: segments_pb2_grpc.SegmentServiceStub
) -> None:
    flow_id = await new_flow(channel)
    external = segments_pb2.SegmentPost(
        object_id=new_id(),
        timerange="[0:0_1:0)",
        get_urls=[segments_pb2.UncontrolledUrl(url="https://a.example/o", label="a")],
    )
    await segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=[external])
    )
    listing = await segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    assert [(u.url, u.label, u.presigned) for u in listing.segments[0].get_urls] == [
        ("https://a.example/o", "a", False)
    ]
