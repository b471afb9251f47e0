"""``/flows/{flow_id}/storage``: allocating Objects to upload into, one request or
(usage guide) a batch of them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import storage_pb2
from tams_server.gateway.body import batch_items, json_body
from tams_server.gateway.media_shapes import allocated_to_json, allocation_request_from_json
from tams_server.gateway.query import Query
from tams_server.gateway.stubs import stubs_of


async def allocate(request: Request) -> Response:
    """``POST /flows/{flow_id}/storage``; ``reissue_pending=true`` (extension, the
    guide dialect's default): the ids of Objects a Segment allocated before their upload
    get their upload URLs again."""
    body = await json_body(request)
    allocation = allocation_request_from_json(body, request.path_params["flow_id"])
    allocation.reissue_pending = Query(request.query_params).boolean("reissue_pending")
    call = stubs_of(request).storage.AllocateStorage(allocation)
    media = [allocated_to_json(item) async for batch in call for item in batch.media_objects]
    return JSONResponse({"media_objects": media}, status_code=201)


async def allocate_batch(request: Request) -> Response:
    """``POST /flows/{flow_id}/storage/batch`` (usage guide): the Objects of each
    request, in the order of the requests."""
    flow_id = request.path_params["flow_id"]
    requests = batch_items(
        await json_body(request), "requests",
        lambda data: allocation_request_from_json(data, flow_id),
    )  # fmt: skip
    call = stubs_of(request).storage.BatchAllocateStorage(
        storage_pb2.BatchAllocateStorageRequest(flow_id=flow_id, requests=requests)
    )
    results: list[dict[str, Any]] = [{"media_objects": []} for _ in requests]
    async for batch in call:
        result = results[batch.request_index]
        result["media_objects"] += [allocated_to_json(o) for o in batch.media_objects]
        if batch.HasField("expires"):
            result["expires"] = batch.expires.ToJsonString()
    return JSONResponse({"results": results}, status_code=201)


ROUTES = [
    Route("/flows/{flow_id}/storage", allocate, methods=["POST"]),
    Route("/flows/{flow_id}/storage/batch", allocate_batch, methods=["POST"]),
]
