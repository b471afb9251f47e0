"""tams_client against the real server: typed calls, auto-paging, error mapping, for
the async client and its sync twin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import tams_client
from helpers.factories import new_id, source, unique_tag, video_flow
from helpers.objects import external_post
from tams.v1 import flows_pb2, segments_pb2, sources_pb2
from tams_client import (
    AlreadyExistsError,
    AsyncTamsClient,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    TamsClient,
    tag_filter,
    tags_to_python,
)


@pytest.fixture(scope="session")
async def client(grpc_target: str) -> AsyncTamsClient:
    async with AsyncTamsClient(grpc_target) as tams:
        yield tams  # type: ignore[misc]


async def test_flow_round_trip_and_put(client: AsyncTamsClient) -> None:
    flow = video_flow(tags={"genre": ["news", "sport"]})
    stored, created = await client.put_flow(flow)
    assert created
    assert tags_to_python(stored.tags) == {"genre": ["news", "sport"]}
    again, created = await client.put_flow(flow)
    assert not created
    assert again.created == stored.created
    assert await client.get_flow(flow.id) == again
    tagged = await client.set_flow_tag(flow.id, "lang", "en")
    assert tags_to_python(tagged.tags)["lang"] == "en"
    renamed = await client.update_flow(flows_pb2.Flow(id=flow.id, label="x"), ["label"])
    assert renamed.label == "x"
    assert await client.delete_flow(flow.id) is None
    with pytest.raises(NotFoundError) as caught:
        await client.get_flow(flow.id)
    assert caught.value.reason == "FLOW_NOT_FOUND"


async def test_auto_paging(client: AsyncTamsClient) -> None:
    marker = unique_tag()
    made = await client.batch_create_flows([video_flow(tags={"run": marker}) for _ in range(25)])
    only_mine = flows_pb2.FlowFilter(tags=[tag_filter("run", [marker])])
    seen = [flow.id async for flow in client.list_flows(filter=only_mine, page_size=10)]
    assert sorted(seen) == sorted(f.id for f in made)
    sizes = [
        len(page.flows) async for page in client.list_flows(filter=only_mine, page_size=10).pages()
    ]
    assert sizes == [10, 10, 5]


async def test_errors_carry_reason_and_fields(client: AsyncTamsClient) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await client.create_flow(video_flow(id="nope"))
    assert caught.value.reason == "INVALID_ID"
    assert [field for field, _ in caught.value.field_violations] == ["flow.id"]
    flow = await client.create_flow(video_flow())
    with pytest.raises(AlreadyExistsError):
        await client.create_flow(flow)
    await client.update_flow(flows_pb2.Flow(id=flow.id, read_only=True), ["read_only"])
    with pytest.raises(FailedPreconditionError) as refused:
        await client.set_flow_tag(flow.id, "a", "b")
    assert refused.value.reason == "FLOW_READ_ONLY"
    assert refused.value.metadata == {"flowId": flow.id}


async def test_sources_through_the_client(client: AsyncTamsClient) -> None:
    marker = unique_tag()
    made = await client.batch_create_sources([source(tags={"run": marker}) for _ in range(3)])
    listed = [
        s.id
        async for s in client.list_sources(
            filter=sources_pb2.SourceFilter(tags=[tag_filter("run", [marker])]), page_size=2
        )
    ]
    assert sorted(listed) == sorted(s.id for s in made)
    deleted = await client.delete_source(made[0].id, deleted_by="carol")
    assert deleted.deleted_by == "carol"
    assert (await client.get_source(made[0].id, show_deleted=True)).deleted_by == "carol"


async def test_sync_client(grpc_target: str) -> None:
    def work() -> tuple[str, int]:
        with TamsClient(grpc_target) as tams:
            flow = tams.create_flow(video_flow())
            try:
                tams.get_flow(new_id())
            except NotFoundError as error:
                missing = error.reason
            marker = unique_tag()
            tams.batch_create_flows([video_flow(tags={"run": marker}) for _ in range(5)])
            only_mine = flows_pb2.FlowFilter(tags=[tag_filter("run", [marker])])
            count = sum(1 for _ in tams.list_flows(filter=only_mine, page_size=2))
            assert tams.get_flow(flow.id).id == flow.id
            return missing, count

    assert await asyncio.to_thread(work) == ("FLOW_NOT_FOUND", 5)


def test_public_names_are_exported() -> None:
    assert tams_client.__all__ == sorted(tams_client.__all__)
    for name in tams_client.__all__:
        assert hasattr(tams_client, name)


async def test_segments_through_the_client(client: AsyncTamsClient, grpc_target: str) -> None:
    flow = await client.create_flow(video_flow())

    async def posts() -> AsyncIterator[segments_pb2.SegmentPost]:
        for i in range(1200):
            yield external_post(f"o{i}", f"[{i}:0_{i + 1}:0)")
        yield external_post("dup", "[3:0_4:0)")

    result = await client.stream_register_segments(flow.id, posts(), batch_size=500)
    assert result.registered_count == 1200
    assert [f.index for f in result.failed_segments] == [1200]
    got = [s.object_id async for s in client.list_segments(flow.id, page_size=300)]
    assert got == [f"o{i}" for i in range(1200)]
    pages = [len(p.segments) async for p in client.list_segments(flow.id, page_size=500).pages()]
    assert pages == [500, 500, 200]
    window = [s.timerange async for s in client.list_segments(flow.id, timerange="[10:0_12:0)")]
    assert window == ["[10:0_11:0)", "[11:0_12:0)"]
    deleted = await client.delete_segments(flow.id, timerange="[0:0_600:0)")
    assert deleted.deleted_count == 600

    def sync_work() -> tuple[int, int]:
        with TamsClient(grpc_target) as tams:
            more = tams.stream_register_segments(
                flow.id,
                # One Object, [0:0_1:0) on its own timeline, placed 600 times.
                (external_post("x", f"[{i}:0_{i + 1}:0)", ts_offset=f"{i}:0") for i in range(600)),
                batch_size=250,
            )
            return more.registered_count, sum(1 for _ in tams.list_segments(flow.id))

    assert await asyncio.to_thread(sync_work) == (600, 1200)
