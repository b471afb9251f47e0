"""Who did it, for deletions, over gRPC and REST on a server that authenticates: a
flow delete request's ``created_by`` (a DeleteFlow or DeleteSegments beyond the inline
limit) and a soft delete's ``deleted_by`` are the token's subject, whatever name the
request gives."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from helpers import auth
from helpers.auth import bearer, hs256
from helpers.factories import video_flow
from helpers.objects import external_post
from helpers.servers import Stubs, module_fixture
from tams.v1 import flow_delete_requests_pb2 as fdr
from tams.v1 import flows_pb2, segments_pb2

INLINE_LIMIT = 2
ALICE = bearer(hs256(sub="alice"))
HEADERS = dict(ALICE)


# No workers: delete requests stay as they were made, for the test to read.
server = module_fixture(
    auth.secret_server, "who-deletes", inline_delete_limit=INLINE_LIMIT, run_workers=False
)


@pytest.fixture
async def http(server: Stubs) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.running.http_url, headers=HEADERS) as client:
        yield client


async def flow_with_segments(stubs: Stubs, count: int) -> str:
    """A new Flow with ``count`` one-second Segments, made by alice; its id."""
    flow = video_flow()
    await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow), metadata=ALICE)
    posts = [external_post(f"{flow.id}-{i}", f"[{i}:0_{i + 1}:0)") for i in range(count)]
    await stubs.segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=posts), metadata=ALICE
    )
    return flow.id


async def stored_creator(stubs: Stubs, request_id: str) -> str:
    got = await stubs.delete_requests.GetFlowDeleteRequest(
        fdr.GetFlowDeleteRequestRequest(request_id=request_id), metadata=ALICE
    )
    return got.delete_request.created_by


async def deleted_by(stubs: Stubs, flow_id: str) -> list[str]:
    """``deleted_by`` of the Flow's soft-deleted Segments."""
    request = segments_pb2.ListSegmentsRequest(flow_id=flow_id, show_deleted=True)
    page = await stubs.segments.ListSegments(request, metadata=ALICE)
    return [s.deleted_by for s in page.segments if s.HasField("deleted")]


async def test_grpc_delete_requests_are_created_by_the_subject(server: Stubs) -> None:
    flow_id = await flow_with_segments(server, INLINE_LIMIT + 1)
    segments = await server.segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(flow_id=flow_id, deleted_by="mallory"), metadata=ALICE
    )
    assert segments.delete_request.created_by == "alice"
    assert await stored_creator(server, segments.delete_request.id) == "alice"

    flow_id = await flow_with_segments(server, INLINE_LIMIT + 1)
    flow = await server.flows.DeleteFlow(
        flows_pb2.DeleteFlowRequest(flow_id=flow_id, deleted_by="mallory"), metadata=ALICE
    )
    assert flow.delete_request.created_by == "alice"
    assert await stored_creator(server, flow.delete_request.id) == "alice"


async def test_grpc_soft_deleted_segments_are_deleted_by_the_subject(server: Stubs) -> None:
    flow_id = await flow_with_segments(server, INLINE_LIMIT)
    await server.segments.DeleteSegments(
        segments_pb2.DeleteSegmentsRequest(flow_id=flow_id, soft_delete=True, deleted_by="mallory"),
        metadata=ALICE,
    )
    assert await deleted_by(server, flow_id) == ["alice"] * INLINE_LIMIT


async def test_rest_delete_requests_are_created_by_the_subject(
    server: Stubs, http: httpx.AsyncClient
) -> None:
    flow_id = await flow_with_segments(server, INLINE_LIMIT + 1)
    segments = await http.delete(f"/flows/{flow_id}/segments", params={"deleted_by": "mallory"})
    assert segments.status_code == 202, segments.text
    assert segments.json()["created_by"] == "alice"
    assert await stored_creator(server, segments.json()["id"]) == "alice"

    flow_id = await flow_with_segments(server, INLINE_LIMIT + 1)
    flow = await http.delete(f"/flows/{flow_id}", params={"deleted_by": "mallory"})
    assert flow.status_code == 202, flow.text
    assert flow.json()["created_by"] == "alice"
    assert await stored_creator(server, flow.json()["id"]) == "alice"


async def test_rest_soft_deleted_segments_are_deleted_by_the_subject(
    server: Stubs, http: httpx.AsyncClient
) -> None:
    flow_id = await flow_with_segments(server, INLINE_LIMIT)
    params = {"soft_delete": "true", "deleted_by": "mallory"}
    gone = await http.delete(f"/flows/{flow_id}/segments", params=params)
    assert gone.status_code == 204, gone.text
    assert await deleted_by(server, flow_id) == ["alice"] * INLINE_LIMIT
    listed = await http.get(f"/flows/{flow_id}/segments", params={"show_deleted": "true"})
    assert [s["deleted_by"] for s in listed.json()] == ["alice"] * INLINE_LIMIT
