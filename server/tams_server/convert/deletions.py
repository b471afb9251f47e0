"""FlowDeleteRequest domain values -> messages."""

from __future__ import annotations

from tams.v1 import flow_delete_requests_pb2 as pb
from tams_server.convert.common import fill_task_error, set_time
from tams_server.domain.models import FlowDeleteRequest

_STATUS = {
    "created": pb.FLOW_DELETE_REQUEST_STATUS_CREATED,
    "started": pb.FLOW_DELETE_REQUEST_STATUS_STARTED,
    "done": pb.FLOW_DELETE_REQUEST_STATUS_DONE,
    "error": pb.FLOW_DELETE_REQUEST_STATUS_ERROR,
}


def delete_request_to_proto(request: FlowDeleteRequest) -> pb.FlowDeleteRequest:
    """A FlowDeleteRequest message."""
    message = pb.FlowDeleteRequest(
        id=request.id,
        flow_id=request.flow_id,
        timerange_to_delete=request.timerange_to_delete,
        timerange_remaining=request.timerange_remaining,
        delete_flow=request.delete_flow,
        status=_STATUS[request.status],
        created_by=request.created_by,
    )
    set_time(message.created, request.created_ns)
    set_time(message.updated, request.updated_ns)
    set_time(message.expiry, request.expiry_ns)
    fill_task_error(message.error, request.error)
    return message
