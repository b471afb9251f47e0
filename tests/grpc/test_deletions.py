"""Large deletions become flow delete requests, finished in batches by a background
worker; a server that stops mid-way leaves a request the next one finishes."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import grpc

from helpers.factories import video_flow
from helpers.objects import external_post
from helpers.servers import Stubs, own_server
from helpers.status import failure
from tams.v1 import flow_delete_requests_pb2 as fdr
from tams.v1 import flows_pb2, segments_pb2, sources_pb2
from tams_server.store.deletions import DeletionStore
from tams_server.store.engine import Database
from tams_server.store.paging import PageTokenCodec

INLINE_LIMIT = 10
DONE = fdr.FLOW_DELETE_REQUEST_STATUS_DONE


def small_server(
    tmp_path: Path, database_url: str, *, workers: bool
) -> AbstractAsyncContextManager[Stubs]:
    return own_server(
        tmp_path, database_url, inline_delete_limit=INLINE_LIMIT, delete_batch_size=4,
        delete_lease_s=0.5, run_workers=workers,
    )  # fmt: skip


async def flow_with_segments(stubs: Stubs, count: int) -> flows_pb2.Flow:
    flow = video_flow()
    await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    posts = [external_post(f"o{i}", f"[{i}:0_{i + 1}:0)") for i in range(count)]
    await stubs.segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=posts)
    )
    return flow


async def wait_done(stubs: Stubs, request_id: str) -> fdr.FlowDeleteRequest:
    """Poll the request (a condition, with a deadline) until the worker finishes it."""
    async with asyncio.timeout(30):
        while True:
            got = await stubs.delete_requests.GetFlowDeleteRequest(
                fdr.GetFlowDeleteRequestRequest(request_id=request_id)
            )
            if got.delete_request.status == DONE:
                return got.delete_request
            await asyncio.sleep(0.05)


async def remaining(stubs: Stubs, flow_id: str) -> list[str]:
    page = await stubs.segments.ListSegments(segments_pb2.ListSegmentsRequest(flow_id=flow_id))
    return [s.timerange for s in page.segments]


async def test_small_deletions_happen_at_once(tmp_path: Path, database_url: str) -> None:
    async with small_server(tmp_path, database_url, workers=True) as stubs:
        flow = await flow_with_segments(stubs, INLINE_LIMIT)
        response = await stubs.flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow.id))
        assert not response.HasField("delete_request")


async def test_large_flow_deletion_runs_in_the_background(
    tmp_path: Path, database_url: str
) -> None:
    async with small_server(tmp_path, database_url, workers=True) as stubs:
        flow = await flow_with_segments(stubs, 30)
        response = await stubs.flows.DeleteFlow(
            flows_pb2.DeleteFlowRequest(flow_id=flow.id, deleted_by="dora")
        )
        request = response.delete_request
        assert request.flow_id == flow.id
        assert request.delete_flow
        assert request.timerange_to_delete == "_"
        assert request.created_by == "dora"
        # Hidden at once, gone when the worker is done.
        result = await failure(stubs.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id)))
        assert result.code == grpc.StatusCode.NOT_FOUND
        done = await wait_done(stubs, request.id)
        assert not done.HasField("timerange_remaining")
        assert done.expiry.seconds > 0
        shown = await failure(
            stubs.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id, show_deleted=True))
        )
        assert shown.code == grpc.StatusCode.NOT_FOUND
        source = await failure(
            stubs.sources.GetSource(sources_pb2.GetSourceRequest(source_id=flow.source_id))
        )
        assert source.code == grpc.StatusCode.NOT_FOUND
        listed = await stubs.delete_requests.ListFlowDeleteRequests(
            fdr.ListFlowDeleteRequestsRequest()
        )
        assert request.id in {r.id for r in listed.delete_requests}


async def test_large_segment_deletion_runs_in_the_background(
    tmp_path: Path, database_url: str
) -> None:
    async with small_server(tmp_path, database_url, workers=True) as stubs:
        flow = await flow_with_segments(stubs, 40)
        response = await stubs.segments.DeleteSegments(
            segments_pb2.DeleteSegmentsRequest(flow_id=flow.id, timerange="[5:0_35:0)")
        )
        assert response.deleted_count == 0
        assert response.delete_request.timerange_to_delete == "[5:0_35:0)"
        assert not response.delete_request.delete_flow
        await wait_done(stubs, response.delete_request.id)
        left = await remaining(stubs, flow.id)
        assert left == [f"[{i}:0_{i + 1}:0)" for i in (*range(5), *range(35, 40))]
        got = await stubs.flows.GetFlow(
            flows_pb2.GetFlowRequest(flow_id=flow.id, include_timerange=True)
        )
        assert got.flow.timerange == "[0:0_40:0)"


async def test_a_restart_resumes_an_unfinished_deletion(tmp_path: Path, database_url: str) -> None:
    # A server without workers accepts the deletion; a worker then stops half-way.
    async with small_server(tmp_path, database_url, workers=False) as stubs:
        flow = await flow_with_segments(stubs, 30)
        response = await stubs.segments.DeleteSegments(
            segments_pb2.DeleteSegmentsRequest(flow_id=flow.id)
        )
        request_id = response.delete_request.id
    database = Database.connect(database_url)
    try:
        store = DeletionStore(database, PageTokenCodec(b"unused"), lease_ns=500_000_000)
        claimed = None
        async with asyncio.timeout(10):  # other tests' requests may be ahead of ours
            while claimed != request_id:
                claimed = await store.claim()
                while claimed is not None and claimed != request_id:
                    if await store.advance(claimed, 100):
                        claimed = None
        assert not await store.advance(request_id, 4)
        assert not await store.advance(request_id, 4)
        half = await store.get(request_id)
        assert half.status == "started"
        assert half.timerange_remaining == "[7:1_"
    finally:
        await database.dispose()
    # A new server (after the lease runs out) finishes it.
    async with small_server(tmp_path, database_url, workers=True) as stubs:
        assert len(await remaining(stubs, flow.id)) == 22
        await wait_done(stubs, request_id)
        assert await remaining(stubs, flow.id) == []
        got = await stubs.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id))
        assert got.flow.id == flow.id  # only its segments were to go


async def test_unknown_request(tmp_path: Path, database_url: str) -> None:
    async with small_server(tmp_path, database_url, workers=False) as stubs:
        result = await failure(
            stubs.delete_requests.GetFlowDeleteRequest(
                fdr.GetFlowDeleteRequestRequest(request_id="0f1d0a52-8c35-4d8e-9c6f-52a1d9f0b4e1")
            )
        )
        assert (result.code, result.reason) == (
            grpc.StatusCode.NOT_FOUND,
            "FLOW_DELETE_REQUEST_NOT_FOUND",
        )
