"""``/analytics`` (usage guide): Flow counts, storage use, a Flow's coverage."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import analytics_pb2
from tams_server.gateway.query import Query
from tams_server.gateway.stubs import stubs_of

_INT64 = (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64)


def message_json(message: Message) -> dict[str, Any]:
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


async def flow_usage(request: Request) -> Response:
    """``GET /analytics/flow-usage``."""
    response = await stubs_of(request).analytics.GetFlowUsage(analytics_pb2.GetFlowUsageRequest())
    return JSONResponse(message_json(response))


async def storage_usage(request: Request) -> Response:
    """``GET /analytics/storage-usage``."""
    top = Query(request.query_params).integer("top_flows") or 0
    response = await stubs_of(request).analytics.GetStorageUsage(
        analytics_pb2.GetStorageUsageRequest(top_flows=top)
    )
    return JSONResponse(message_json(response))


async def time_range_analysis(request: Request) -> Response:
    """``GET /analytics/time-range-analysis``."""
    query = Query(request.query_params)
    response = await stubs_of(request).analytics.AnalyzeTimeRange(
        analytics_pb2.AnalyzeTimeRangeRequest(
            flow_id=query.text("flow_id") or "", timerange=query.text("timerange") or "",
            max_gaps=query.integer("max_gaps") or 0,
        )
    )  # fmt: skip
    data = message_json(response)
    if not response.HasField("duration_percentiles"):
        data.pop("duration_percentiles", None)
    return JSONResponse(data)


ROUTES = [
    Route("/analytics/flow-usage", flow_usage, methods=["GET"]),
    Route("/analytics/storage-usage", storage_usage, methods=["GET"]),
    Route("/analytics/time-range-analysis", time_range_analysis, methods=["GET"]),
]
