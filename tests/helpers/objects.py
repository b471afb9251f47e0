"""Objects for Segment tests: real uploads (allocate, then PUT the bytes to the put_url
over HTTP), or external Objects known only by an uncontrolled URL."""

from __future__ import annotations

import grpc
import httpx

from helpers.factories import video_flow
from tams.v1 import flows_pb2, flows_pb2_grpc, segments_pb2, storage_pb2, storage_pb2_grpc


async def upload_objects(
    channel: grpc.aio.Channel,
    flow_id: str,
    count: int = 1,
    *,
    body: bytes = b"\x47" * 188,
    content_type: str | None = None,
    metadata: tuple[tuple[str, str], ...] | None = None,
) -> list[str]:
    """Allocate ``count`` Objects on the Flow's default backend (as the caller of
    ``metadata``, if given) and upload ``body`` to each; returns their ids."""
    storage = storage_pb2_grpc.StorageServiceStub(channel)
    request = storage_pb2.AllocateStorageRequest(flow_id=flow_id, limit=count)
    if content_type is not None:
        request.content_type = content_type
    ids: list[str] = []
    async with httpx.AsyncClient() as http:
        async for batch in storage.AllocateStorage(request, metadata=metadata):
            for item in batch.media_objects:
                headers = {"Content-Type": item.put_url.content_type, **item.put_url.headers}
                response = await http.put(item.put_url.url, content=body, headers=headers)
                response.raise_for_status()
                ids.append(item.object_id)
    return ids


def external_urls(object_id: str) -> list[segments_pb2.UncontrolledUrl]:
    """The uncontrolled URL that makes ``object_id`` a valid external Object."""
    return [segments_pb2.UncontrolledUrl(url=f"https://media.example/{object_id}", label="origin")]


def external_post(object_id: str, timerange: str, **fields: object) -> segments_pb2.SegmentPost:
    """A Segment of the external Object ``object_id``."""
    return segments_pb2.SegmentPost(
        object_id=object_id, timerange=timerange, get_urls=external_urls(object_id), **fields
    )  # type: ignore[arg-type]


async def allocate(
    stub: storage_pb2_grpc.StorageServiceStub, **fields: object
) -> list[storage_pb2.AllocatedObject]:
    """Every Object an AllocateStorage call with these fields streams back."""
    call = stub.AllocateStorage(storage_pb2.AllocateStorageRequest(**fields))  # type: ignore[arg-type]
    return [item async for message in call for item in message.media_objects]


async def new_flow(flows: flows_pb2_grpc.FlowServiceStub, **fields: object) -> str:
    """The id of a new video Flow (container video/mp2t)."""
    flow = video_flow(**fields)
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    return flow.id
