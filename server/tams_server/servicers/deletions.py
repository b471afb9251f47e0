"""tams.v1.FlowDeleteRequestService."""

from __future__ import annotations

import grpc

from tams.v1 import flow_delete_requests_pb2 as pb
from tams.v1 import flow_delete_requests_pb2_grpc
from tams_server.convert.deletions import delete_request_to_proto
from tams_server.domain.access import AuthClassMap, current_access
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.ids import check_uuid
from tams_server.domain.principal import principal
from tams_server.store.deletions import DeletionStore
from tams_server.store.paging import page_size

Context = grpc.aio.ServicerContext[object, object]


class FlowDeleteRequestServicer(flow_delete_requests_pb2_grpc.FlowDeleteRequestServiceServicer):
    """Flow delete requests over gRPC."""

    def __init__(self, store: DeletionStore, classes: AuthClassMap | None) -> None:
        self._store = store
        self._classes = classes

    async def GetFlowDeleteRequest(
        self, request: pb.GetFlowDeleteRequestRequest, context: Context
    ) -> pb.GetFlowDeleteRequestResponse:
        check_uuid(request.request_id, "request_id")
        found = await self._store.get(
            request.request_id, access=current_access(self._classes), caller=principal()
        )
        return pb.GetFlowDeleteRequestResponse(delete_request=delete_request_to_proto(found))

    async def ListFlowDeleteRequests(
        self, request: pb.ListFlowDeleteRequestsRequest, context: Context
    ) -> pb.ListFlowDeleteRequestsResponse:
        if request.sort_by not in pb.FlowDeleteRequestSortKey.values():
            raise InvalidArgument.for_field("sort_by", f"unknown sort key {request.sort_by}")
        page = await self._store.find(
            by_expiry=request.sort_by == pb.FLOW_DELETE_REQUEST_SORT_KEY_EXPIRY,
            reverse=request.reverse_order,
            page_size=page_size(request.page_size),
            page_token=request.page_token,
            access=current_access(self._classes),
            caller=principal(),
        )
        return pb.ListFlowDeleteRequestsResponse(
            delete_requests=[delete_request_to_proto(r) for r in page.items],
            next_page_token=page.next_page_token,
            page_size=page.page_size,
        )
