"""The TAMS usage guide's extensions (not in the official spec): creating Sources on
their own and in batches, batches of Flows and of storage allocations, soft-deleting a
Source, and the ``/analytics`` endpoints. Each is one gRPC call, like every other route."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import analytics_pb2, flows_pb2, sources_pb2, storage_pb2
from tams_server.gateway.body import json_body, parse_object
from tams_server.gateway.media_shapes import allocated_to_json, allocation_request_from_json
from tams_server.gateway.query import BadRequest, Query
from tams_server.gateway.shapes import (
    flow_from_json,
    flow_to_json,
    source_from_json,
    source_to_json,
)
from tams_server.gateway.stubs import Stubs

Item = TypeVar("Item")


def _items(body: Any, key: str, parse: Callable[[Mapping[str, Any]], Item]) -> list[Item]:
    """The ``key`` list of a batch body, each item parsed; 400 naming the bad one."""
    if not isinstance(body, Mapping) or not isinstance(body.get(key), list):
        raise BadRequest(f'the body must be {{"{key}": [...]}}')
    return [parse_object(item, parse, f"{key}[{i}]") for i, item in enumerate(body[key])]


_INT64 = (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64)


def _message_json(message: Message) -> dict[str, Any]:
    """The message as JSON with every field, its 64-bit integers as numbers (proto
    JSON writes them as strings; the guide's clients expect numbers)."""
    data = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    for field in message.DESCRIPTOR.fields:
        value = data.get(field.name)
        if value is None:
            continue
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            if entry.fields_by_name["value"].cpp_type in _INT64:
                data[field.name] = {k: int(v) for k, v in value.items()}
        elif field.cpp_type in _INT64:
            data[field.name] = int(value)
    return data


def extension_routes(stubs: Stubs) -> list[Route]:
    """The usage guide's routes."""

    async def create_source(request: Request) -> Response:
        source = parse_object(await json_body(request), source_from_json, "the body")
        response = await stubs.sources.CreateSource(sources_pb2.CreateSourceRequest(source=source))
        created = response.source
        return JSONResponse(
            source_to_json(created), status_code=201, headers={"Location": f"/sources/{created.id}"}
        )

    async def create_sources(request: Request) -> Response:
        sources = _items(await json_body(request), "sources", source_from_json)
        response = await stubs.sources.BatchCreateSources(
            sources_pb2.BatchCreateSourcesRequest(sources=sources)
        )
        return JSONResponse(
            {"sources": [source_to_json(s) for s in response.sources]}, status_code=201
        )

    async def create_flows(request: Request) -> Response:
        flows = _items(await json_body(request), "flows", flow_from_json)
        response = await stubs.flows.BatchCreateFlows(
            flows_pb2.BatchCreateFlowsRequest(flows=flows)
        )
        return JSONResponse({"flows": [flow_to_json(f) for f in response.flows]}, status_code=201)

    async def allocate_batch(request: Request) -> Response:
        flow_id = request.path_params["flow_id"]
        requests = _items(
            await json_body(request), "requests",
            lambda data: allocation_request_from_json(data, flow_id),
        )  # fmt: skip
        call = stubs.storage.BatchAllocateStorage(
            storage_pb2.BatchAllocateStorageRequest(flow_id=flow_id, requests=requests)
        )
        results: list[list[dict[str, Any]]] = [[] for _ in requests]
        async for batch in call:
            results[batch.request_index] += [allocated_to_json(o) for o in batch.media_objects]
        return JSONResponse(
            {"results": [{"media_objects": media} for media in results]}, status_code=201
        )

    async def delete_source(request: Request) -> Response:
        query = Query(request.query_params)
        if query.has("soft_delete") and not query.boolean("soft_delete"):
            raise BadRequest(
                "a Source goes for good with its last Flow (TAMS ADR 0018); "
                "only soft_delete=true is offered here"
            )
        await stubs.sources.DeleteSource(
            sources_pb2.DeleteSourceRequest(
                source_id=request.path_params["source_id"], deleted_by=query.text("deleted_by")
            )
        )
        return Response(status_code=204)

    async def flow_usage(request: Request) -> Response:
        response = await stubs.analytics.GetFlowUsage(analytics_pb2.GetFlowUsageRequest())
        return JSONResponse(_message_json(response))

    async def storage_usage(request: Request) -> Response:
        top = Query(request.query_params).integer("top_flows") or 0
        response = await stubs.analytics.GetStorageUsage(
            analytics_pb2.GetStorageUsageRequest(top_flows=top)
        )
        return JSONResponse(_message_json(response))

    async def time_range_analysis(request: Request) -> Response:
        query = Query(request.query_params)
        response = await stubs.analytics.AnalyzeTimeRange(
            analytics_pb2.AnalyzeTimeRangeRequest(
                flow_id=query.text("flow_id") or "", timerange=query.text("timerange") or "",
                max_gaps=query.integer("max_gaps") or 0,
            )
        )  # fmt: skip
        data = _message_json(response)
        if not response.HasField("duration_percentiles"):
            data.pop("duration_percentiles", None)
        return JSONResponse(data)

    return [
        Route("/sources", create_source, methods=["POST"]),
        Route("/sources/batch", create_sources, methods=["POST"]),
        Route("/sources/{source_id}", delete_source, methods=["DELETE"]),
        Route("/flows/batch", create_flows, methods=["POST"]),
        Route("/flows/{flow_id}/storage/batch", allocate_batch, methods=["POST"]),
        Route("/analytics/flow-usage", flow_usage, methods=["GET"]),
        Route("/analytics/storage-usage", storage_usage, methods=["GET"]),
        Route("/analytics/time-range-analysis", time_range_analysis, methods=["GET"]),
    ]
