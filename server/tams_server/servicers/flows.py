"""tams.v1.FlowService."""

from __future__ import annotations

import grpc

from tams.v1 import flows_pb2, flows_pb2_grpc
from tams_server.convert.deletions import delete_request_to_proto
from tams_server.convert.flows import flow_query_to_domain, flow_to_domain, flow_to_proto
from tams_server.domain.access import AuthClassMap, current_access
from tams_server.domain.flows import validate_flow, validate_flow_changes
from tams_server.domain.ids import check_uuid
from tams_server.domain.models import Flow
from tams_server.domain.principal import principal
from tams_server.domain.queries import TimeBounds
from tams_server.domain.timerange import parse_timerange, to_bounds
from tams_server.domain.updates import check_batch, check_update_paths, pick
from tams_server.servicers.attribution import attributed, deleted_by
from tams_server.servicers.tags import edit_tag
from tams_server.store.flows import UPDATABLE_FIELDS, FlowStore
from tams_server.store.paging import page_size

Context = grpc.aio.ServicerContext[object, object]


class FlowServicer(flows_pb2_grpc.FlowServiceServicer):
    """Flows over gRPC."""

    def __init__(self, store: FlowStore, classes: AuthClassMap | None) -> None:
        self._store = store
        self._classes = classes

    async def GetFlow(
        self, request: flows_pb2.GetFlowRequest, context: Context
    ) -> flows_pb2.GetFlowResponse:
        check_uuid(request.flow_id, "flow_id")
        if request.timerange:
            parse_timerange(request.timerange, field="timerange")
        flow = await self._store.get(
            request.flow_id,
            include_timerange=request.include_timerange,
            show_deleted=request.show_deleted,
            access=current_access(self._classes),
        )
        return flows_pb2.GetFlowResponse(flow=flow_to_proto(flow))

    async def ListFlows(
        self, request: flows_pb2.ListFlowsRequest, context: Context
    ) -> flows_pb2.ListFlowsResponse:
        f = request.filter
        for field in ("source_id", "profile_id"):
            if f.HasField(field):
                check_uuid(getattr(f, field), f"filter.{field}")
        for index, collector in enumerate(f.collected_by_ids):
            check_uuid(collector, f"filter.collected_by_ids[{index}]")
        timerange = _query_bounds(f.timerange) if f.HasField("timerange") else None
        page = await self._store.find(
            flow_query_to_domain(request, timerange),
            page_size=page_size(request.page_size),
            page_token=request.page_token,
            access=current_access(self._classes),
        )
        return flows_pb2.ListFlowsResponse(
            flows=[flow_to_proto(flow) for flow in page.items],
            next_page_token=page.next_page_token,
            page_size=page.page_size,
        )

    async def CreateFlow(
        self, request: flows_pb2.CreateFlowRequest, context: Context
    ) -> flows_pb2.CreateFlowResponse:
        flow = _valid_flow(request.flow)
        stored, _ = await self._store.put(
            flow, mode="create", actor=principal(), access=current_access(self._classes)
        )
        return flows_pb2.CreateFlowResponse(flow=flow_to_proto(stored))

    async def BatchCreateFlows(
        self, request: flows_pb2.BatchCreateFlowsRequest, context: Context
    ) -> flows_pb2.BatchCreateFlowsResponse:
        new_flows = [
            _valid_flow(message, path=f"flows[{index}]")
            for index, message in enumerate(request.flows)
        ]
        check_batch(new_flows, [flow.id for flow in new_flows], field="flows")
        stored = await self._store.create_many(
            new_flows, actor=principal(), access=current_access(self._classes)
        )
        return flows_pb2.BatchCreateFlowsResponse(flows=[flow_to_proto(flow) for flow in stored])

    async def UpdateFlow(
        self, request: flows_pb2.UpdateFlowRequest, context: Context
    ) -> flows_pb2.UpdateFlowResponse:
        if not request.update_mask.paths:
            flow = _valid_flow(request.flow)
            stored, created = await self._store.put(
                flow,
                mode="upsert" if request.allow_missing else "replace",
                actor=principal(),
                access=current_access(self._classes),
            )
            return flows_pb2.UpdateFlowResponse(flow=flow_to_proto(stored), created=created)
        check_uuid(request.flow.id, "flow.id")
        paths = check_update_paths(request.update_mask.paths, UPDATABLE_FIELDS)
        given, _ = flow_to_domain(request.flow)
        changes = pick(_updatable_values(given), paths)
        validate_flow_changes(changes)
        stored = await self._store.update(
            request.flow.id, changes, actor=principal(), access=current_access(self._classes)
        )
        return flows_pb2.UpdateFlowResponse(flow=flow_to_proto(stored), created=False)

    async def SetFlowTag(
        self, request: flows_pb2.SetFlowTagRequest, context: Context
    ) -> flows_pb2.SetFlowTagResponse:
        flow = await edit_tag(
            self._store,
            current_access(self._classes),
            request.flow_id,
            "flow_id",
            request.name,
            request.value,
        )
        return flows_pb2.SetFlowTagResponse(flow=flow_to_proto(flow))

    async def DeleteFlowTag(
        self, request: flows_pb2.DeleteFlowTagRequest, context: Context
    ) -> flows_pb2.DeleteFlowTagResponse:
        flow = await edit_tag(
            self._store, current_access(self._classes), request.flow_id, "flow_id", request.name
        )
        return flows_pb2.DeleteFlowTagResponse(flow=flow_to_proto(flow))

    async def DeleteFlow(
        self, request: flows_pb2.DeleteFlowRequest, context: Context
    ) -> flows_pb2.DeleteFlowResponse:
        check_uuid(request.flow_id, "flow_id")
        named = request.deleted_by if request.HasField("deleted_by") else None
        pending = await self._store.delete(
            request.flow_id,
            soft=request.soft_delete,
            deleted_by=deleted_by(named),
            access=current_access(self._classes),
        )
        response = flows_pb2.DeleteFlowResponse()
        if pending is not None:
            response.delete_request.CopyFrom(delete_request_to_proto(pending))
        return response


def _valid_flow(message: flows_pb2.Flow, *, path: str = "flow") -> Flow:
    flow, essence_format = flow_to_domain(message)
    validate_flow(flow, essence_format=essence_format, path=path)
    return attributed(flow)


def _updatable_values(flow: Flow) -> dict[str, object]:
    return {name: getattr(flow, name) for name in UPDATABLE_FIELDS}


def _query_bounds(text: str) -> TimeBounds | None:
    """A listing's timerange filter: the Flows whose content overlaps it, so ``_`` (all
    time) leaves out the Flows with no Segments; ``never`` for `()`, which asks for
    those. No filter at all is an unset field."""
    timerange = parse_timerange(text, field="filter.timerange")
    if timerange.is_empty:
        return TimeBounds(0, 0, never=True)
    start, end = to_bounds(timerange)
    return TimeBounds(start, end)
