"""``/flow-delete-requests``, and the answer of a DELETE that may finish in the
background."""

from __future__ import annotations

from typing import Literal, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import flow_delete_requests_pb2
from tams_server.gateway.media_shapes import delete_request_to_json
from tams_server.gateway.paging import list_response
from tams_server.gateway.query import Query
from tams_server.gateway.stubs import stubs_of

_SORT = {
    "created": flow_delete_requests_pb2.FLOW_DELETE_REQUEST_SORT_KEY_CREATED,
    "expiry": flow_delete_requests_pb2.FLOW_DELETE_REQUEST_SORT_KEY_EXPIRY,
}


class MayDefer(Protocol):
    """The response of a deletion that the server may leave to a flow delete request."""

    @property
    def delete_request(self) -> flow_delete_requests_pb2.FlowDeleteRequest: ...

    def HasField(self, field_name: Literal["delete_request"]) -> bool: ...


def deletion_response(response: MayDefer) -> Response:
    """204 when the deletion is done; 202 with the flow delete request, and its
    ``Location``, when it goes on in the background."""
    if not response.HasField("delete_request"):
        return Response(status_code=204)
    pending = response.delete_request
    return JSONResponse(
        delete_request_to_json(pending),
        status_code=202,
        headers={"Location": f"/flow-delete-requests/{pending.id}"},
    )


async def list_delete_requests(request: Request) -> Response:
    """``GET /flow-delete-requests``."""
    query = Query(request.query_params)
    size, token = query.paging()
    reverse = query.boolean("reverse_order")
    response = await stubs_of(request).deletions.ListFlowDeleteRequests(
        flow_delete_requests_pb2.ListFlowDeleteRequestsRequest(
            page_size=size, page_token=token, reverse_order=reverse,
            sort_by=query.choice(
                "sort_by", _SORT, flow_delete_requests_pb2.FLOW_DELETE_REQUEST_SORT_KEY_UNSPECIFIED
            ),
        )
    )  # fmt: skip
    items = [delete_request_to_json(r) for r in response.delete_requests]
    return list_response(request, response, items, reverse_order=reverse)


async def get_delete_request(request: Request) -> Response:
    """``GET /flow-delete-requests/{request_id}``."""
    response = await stubs_of(request).deletions.GetFlowDeleteRequest(
        flow_delete_requests_pb2.GetFlowDeleteRequestRequest(
            request_id=request.path_params["request_id"]
        )
    )
    return JSONResponse(delete_request_to_json(response.delete_request))


ROUTES = [
    Route("/flow-delete-requests", list_delete_requests, methods=["GET"]),
    Route("/flow-delete-requests/{request_id}", get_delete_request, methods=["GET"]),
]
