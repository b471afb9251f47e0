"""tams.v1.AnalyticsService: the usage guide's analytics, computed by the store.

A caller restricted by ``auth_classes`` gets figures over the Flows it may read only
(and their Segments and Objects): a Flow it may not read is NOT_FOUND, as elsewhere."""

from __future__ import annotations

import grpc

from tams.v1 import analytics_pb2 as pb
from tams.v1 import analytics_pb2_grpc
from tams_server.domain.access import AuthClassMap, current_access
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.ids import check_uuid
from tams_server.domain.timerange import (
    INT64_MAX,
    INT64_MIN,
    format_timerange,
    format_timestamp,
    from_bounds,
    parse_timerange,
    to_bounds,
)
from tams_server.store.analytics import AnalyticsStore, Durations

Context = grpc.aio.ServicerContext[object, object]

DEFAULT_TOP_FLOWS, MAX_TOP_FLOWS = 100, 1000
DEFAULT_GAPS, MAX_GAPS = 100, 10_000


def _bounded(value: int, field: str, default: int, maximum: int) -> int:
    """A requested count: 0 means ``default``, more than ``maximum`` is coerced to it."""
    if value < 0:
        raise InvalidArgument.for_field(field, f"must not be negative, got {value}")
    return min(value or default, maximum)


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    """Analytics over gRPC."""

    def __init__(self, store: AnalyticsStore, classes: AuthClassMap | None = None) -> None:
        self._store = store
        self._classes = classes

    async def GetFlowUsage(
        self, request: pb.GetFlowUsageRequest, context: Context
    ) -> pb.GetFlowUsageResponse:
        usage = await self._store.flow_usage(current_access(self._classes))
        return pb.GetFlowUsageResponse(
            total_flows=usage.total, format_distribution=usage.by_format,
            codec_distribution=usage.by_codec, resolution_distribution=usage.by_resolution,
            created_last_30_days=usage.created_last_30_days,
            updated_last_30_days=usage.updated_last_30_days,
            deleted_flows=usage.deleted, source_distribution=usage.by_source,
        )  # fmt: skip

    async def GetStorageUsage(
        self, request: pb.GetStorageUsageRequest, context: Context
    ) -> pb.GetStorageUsageResponse:
        top = _bounded(request.top_flows, "top_flows", DEFAULT_TOP_FLOWS, MAX_TOP_FLOWS)
        usage = await self._store.storage_usage(top_flows=top, access=current_access(self._classes))
        return pb.GetStorageUsageResponse(
            total_storage_bytes=usage.total_bytes, total_objects=usage.total_objects,
            unsized_objects=usage.unsized_objects, storage_by_format=usage.by_format,
            storage_by_flow=usage.by_flow, storage_by_backend=usage.by_backend,
            objects_by_flow=usage.objects_by_flow, storage_by_month=usage.by_month,
        )  # fmt: skip

    async def AnalyzeTimeRange(
        self, request: pb.AnalyzeTimeRangeRequest, context: Context
    ) -> pb.AnalyzeTimeRangeResponse:
        max_gaps = _bounded(request.max_gaps, "max_gaps", DEFAULT_GAPS, MAX_GAPS)
        asked = to_bounds(parse_timerange(request.timerange or "_"))
        if not request.flow_id:
            response = pb.AnalyzeTimeRangeResponse()
            durations = await self._store.durations(None, asked, current_access(self._classes))
            _fill_durations(response, durations)
            if request.timerange:
                response.timerange = format_timerange(from_bounds(*asked))
            return response
        flow_id = check_uuid(request.flow_id, "flow_id")
        flow = await self._store.flow_span(flow_id, current_access(self._classes))
        first, last = flow.start_ns, flow.end_ns
        # An open end of the asked range stops where the Flow's Segments stop.
        lo = asked[0] if asked[0] != INT64_MIN else (first if first is not None else asked[1])
        hi = asked[1] if asked[1] != INT64_MAX else (last if last is not None else lo)
        window = (lo, max(lo, hi)) if INT64_MIN < lo < INT64_MAX else (0, 0)
        response = pb.AnalyzeTimeRangeResponse(timerange=format_timerange(from_bounds(*window)))
        _fill_durations(response, await self._store.durations(flow, window))
        span = window[1] - window[0]
        if span <= 0:
            response.coverage = 0.0
            response.covered_duration = format_timestamp(0)
            return response
        coverage = await self._store.coverage(flow, window, max_gaps=max_gaps)
        response.coverage = coverage.covered_ns / span
        response.covered_duration = format_timestamp(coverage.covered_ns)
        response.gaps.extend(format_timerange(from_bounds(a, b)) for a, b in coverage.gaps)
        response.gap_count = coverage.gap_count
        hourly = await self._store.hourly(flow, window)
        response.hourly_distribution.update(
            {f"{hour:02d}": format_timestamp(ns) for hour, ns in hourly.items()}
        )
        return response


def _fill_durations(response: pb.AnalyzeTimeRangeResponse, durations: Durations) -> None:
    response.total_segments = durations.count
    response.time_range_distribution.update(durations.buckets)
    if durations.average_ns is None:
        return
    response.average_duration = format_timestamp(durations.average_ns)
    percentiles = {f"p{p}": format_timestamp(ns) for p, ns in durations.percentiles_ns.items()}
    response.duration_percentiles.CopyFrom(pb.DurationPercentiles(**percentiles))
