"""gRPC errors -> TAMS HTTP answers: one table (with its per-operation exceptions),
and the error body.

The spec answers only 200/201/202/204/400/403/404: conflicts with stored state are
400, a read-only Flow is 403. Where it is silent (methods, body size, an unavailable
store) the usual HTTP codes apply. The body has the shape of the spec's
``error.json``: ``type``, ``summary``, ``time``.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from starlette.requests import Request
from starlette.responses import JSONResponse

# One gRPC code -> one HTTP status; reasons listed in REASON_STATUS take precedence.
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ALREADY_EXISTS: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.ABORTED: 400,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.UNIMPLEMENTED: 404,  # TAMS: an unsupported feature answers 404
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
REASON_STATUS: dict[str, int] = {
    "FLOW_READ_ONLY": 403,  # TAMS: writes to a read-only Flow are 403
}
# Where one operation (named by its handler) answers a reason otherwise; these take
# precedence over REASON_STATUS.
OPERATION_REASON_STATUS: dict[str, dict[str, int]] = {
    # The spec documents no 400 for property DELETEs: a property that the Flow's
    # Profile fixes cannot be removed, which is a refusal to modify (403).
    "delete_property": {"FLOW_HAS_PROFILE": 403},
}


def now_iso() -> str:
    """The time of an error, as ``error.json`` wants it."""
    return datetime.now(UTC).isoformat()


def error_response(status: int, error_type: str, summary: str) -> JSONResponse:
    """A TAMS error body (``error.json``)."""
    body = {"type": error_type, "summary": summary, "time": now_iso()}
    return JSONResponse(body, status_code=status)


# Ids the gateway takes from the path: one the server calls malformed names no
# resource, and TAMS answers 404 for it ("404 ... for an invalid Flow ID").
PATH_ID_FIELDS = frozenset({"flow_id", "source_id", "profile_id", "request_id", "object_id"})


def details_of(error: grpc.aio.AioRpcError) -> tuple[str, list[str]]:
    """The ErrorInfo reason ("" if none) and the fields BadRequest names."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    reason, fields = "", []
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = str(info.reason)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return reason, fields


def operation_of(request: Request) -> str:
    """The name of the handler a request was routed to ("" before routing)."""
    handler = request.scope.get("endpoint")
    while isinstance(handler, functools.partial):
        handler = handler.func
    return str(getattr(handler, "__name__", ""))


def rpc_error_response(error: grpc.aio.AioRpcError, operation: str = "") -> JSONResponse:
    """The HTTP answer to a failed call made by ``operation`` (a handler's name)."""
    reason, fields = details_of(error)
    status = (
        OPERATION_REASON_STATUS.get(operation, {}).get(reason)
        or REASON_STATUS.get(reason)
        or HTTP_STATUS.get(error.code(), 500)
    )
    if (
        error.code() == grpc.StatusCode.INVALID_ARGUMENT
        and fields
        and set(fields) <= PATH_ID_FIELDS
    ):
        status = 404
    if status == 500:
        return error_response(500, "INTERNAL", "internal error")
    return error_response(status, reason or error.code().name, error.details() or "")
