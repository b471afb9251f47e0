"""Objects are reference counted: their bytes go when no Segment of any Flow uses
them any more, and not before (TAMS AppNote 0010). Deleting Segments or Flows, inline
or through a flow delete request, hands the Objects to the background janitor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from helpers.objects import new_flow
from helpers.servers import Stubs, gone, own_server
from tams.v1 import flows_pb2, segments_pb2, storage_pb2

INLINE_LIMIT = 5


@pytest.fixture
async def stubs(tmp_path: Path, database_url: str) -> AsyncIterator[Stubs]:
    """A server whose janitor and deletion worker run often."""
    async with own_server(
        tmp_path, database_url, janitor_interval_s=0.1, inline_delete_limit=INLINE_LIMIT,
        delete_batch_size=2,
    ) as stubs:  # fmt: skip
        yield stubs


async def uploaded(stubs: Stubs, flow_id: str, count: int) -> list[tuple[str, Path]]:
    """Allocate and upload ``count`` Objects: (object id, file of its bytes)."""
    call = stubs.storage.AllocateStorage(
        storage_pb2.AllocateStorageRequest(flow_id=flow_id, limit=count)
    )
    found = []
    async with httpx.AsyncClient() as http:
        async for batch in call:
            for item in batch.media_objects:
                (
                    await http.put(item.put_url.url, content=item.object_id.encode())
                ).raise_for_status()
                found.append((item.object_id, stubs.object_file(item.put_url.url)))
    return found


async def register(stubs: Stubs, flow_id: str, *posts: segments_pb2.SegmentPost) -> None:
    response = await stubs.segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=posts)
    )
    assert list(response.failed_segments) == []


async def released_later(stubs: Stubs) -> Path:
    """Register and delete a Segment of a new Object; returns the Object's file."""
    flow_id = await new_flow(stubs.flows)
    [(object_id, path)] = await uploaded(stubs, flow_id, 1)
    await register(
        stubs, flow_id, segments_pb2.SegmentPost(object_id=object_id, timerange="[0:0_1:0)")
    )
    await stubs.segments.DeleteSegments(segments_pb2.DeleteSegmentsRequest(flow_id=flow_id))
    return path


async def test_bytes_shared_by_two_flows_survive_the_deletion_of_one(stubs: Stubs) -> None:
    first, second = await new_flow(stubs.flows), await new_flow(stubs.flows)
    [(shared, shared_file), (own, own_file)] = await uploaded(stubs, first, 2)
    await register(
        stubs, first,
        segments_pb2.SegmentPost(object_id=shared, timerange="[0:0_1:0)"),
        segments_pb2.SegmentPost(object_id=own, timerange="[1:0_2:0)"),
    )  # fmt: skip
    reuse = segments_pb2.SegmentPost(object_id=shared, timerange="[10:0_11:0)", ts_offset="10:0")
    await register(stubs, second, reuse)

    await stubs.flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=first))
    await gone(own_file)
    # The janitor takes Objects oldest expiry first: once an Object released later is
    # gone, it has been through the deleted Flow's Objects. The shared one stays, and
    # still downloads through the other Flow's listing.
    await gone(await released_later(stubs))
    assert shared_file.exists()
    listing = await stubs.segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=second))
    async with httpx.AsyncClient() as http:
        got = await http.get(listing.segments[0].get_urls[0].url)
    assert got.content == shared.encode()

    await stubs.segments.DeleteSegments(segments_pb2.DeleteSegmentsRequest(flow_id=second))
    await gone(shared_file)


async def test_a_flow_deleted_in_the_background_releases_its_objects(stubs: Stubs) -> None:
    flow_id = await new_flow(stubs.flows)
    objects = await uploaded(stubs, flow_id, INLINE_LIMIT * 2)
    await register(
        stubs, flow_id,
        *(
            segments_pb2.SegmentPost(object_id=object_id, timerange=f"[{i}:0_{i + 1}:0)")
            for i, (object_id, _) in enumerate(objects)
        ),
    )  # fmt: skip
    response = await stubs.flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow_id))
    assert response.HasField("delete_request")  # more than the inline limit
    for _, path in objects:
        await gone(path)


async def test_soft_deleted_segments_keep_their_objects(stubs: Stubs) -> None:
    flow_id = await new_flow(stubs.flows)
    [(kept, kept_file), (dropped, dropped_file)] = await uploaded(stubs, flow_id, 2)
    await register(
        stubs, flow_id,
        segments_pb2.SegmentPost(object_id=kept, timerange="[0:0_1:0)"),
        segments_pb2.SegmentPost(object_id=dropped, timerange="[1:0_2:0)"),
    )  # fmt: skip
    await stubs.segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(flow_id=flow_id, timerange="[0:0_1:0)", soft_delete=True)
    )
    await stubs.segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(flow_id=flow_id, timerange="[1:0_2:0)")
    )
    await gone(dropped_file)
    await gone(await released_later(stubs))
    assert kept_file.exists()
