"""gRPC errors -> TAMS HTTP answers: the status tables, and the error body.

The spec answers only 200/201/202/204/400/403/404: conflicts with stored state are
400, a read-only Flow is 403. Where it is silent (methods, body size, an unavailable
store) the usual HTTP codes apply. The body has the shape of the spec's
``error.json``: ``type``, ``summary``, ``time``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from starlette.requests import Request
from starlette.responses import JSONResponse

from tams.v1 import common_pb2
from tams_server.gateway.dialects import dialect_of

# A value of tams.v1.ErrorReason; ErrorInfo.reason carries its name without the prefix.
ErrorReason: TypeAlias = common_pb2.ErrorReason.ValueType
_PREFIX = "ERROR_REASON_"

# One gRPC code -> one HTTP status; reasons in REASON_STATUS take precedence.
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
# Reasons whose HTTP status is not their gRPC code's, keyed by (reason, HTTP method);
# the method None stands for every method. The one place a reason overrides HTTP_STATUS.
REASON_STATUS: dict[tuple[ErrorReason, str | None], int] = {
    # TAMS: writes to a read-only Flow are 403.
    (common_pb2.ERROR_REASON_FLOW_READ_ONLY, None): 403,
    # The spec documents no 400 for the property DELETEs (the only DELETEs that can meet
    # this reason): a property the Flow's Profile fixes cannot be removed, which is a
    # refusal to modify (403). A PUT of it stays 400, as the spec says.
    (common_pb2.ERROR_REASON_FLOW_HAS_PROFILE, "DELETE"): 403,
}


def reason_named(name: str) -> ErrorReason:
    """The reason ``ErrorInfo.reason`` names (UNSPECIFIED for none, or an unknown one)."""
    try:
        return common_pb2.ErrorReason.Value(_PREFIX + name)
    except ValueError:
        return common_pb2.ERROR_REASON_UNSPECIFIED


def reason_status(reason: ErrorReason, http_method: str) -> int | None:
    """The HTTP status REASON_STATUS gives ``reason`` for this method, if any."""
    return REASON_STATUS.get((reason, http_method)) or REASON_STATUS.get((reason, None))


def now_iso() -> str:
    """The time of an error, as ``error.json`` wants it."""
    return datetime.now(UTC).isoformat()


def error_response(
    status: int, reason: ErrorReason, summary: str, request: Request | None = None
) -> JSONResponse:
    """The answer to an error the gateway finds itself: its ``type`` is the reason's
    name without the prefix, as ``ErrorInfo.reason`` carries it; in the dialect of
    ``request``'s application (the spec's without one)."""
    error_type = common_pb2.ErrorReason.Name(reason).removeprefix(_PREFIX)
    if request is None:
        return spec_error_body(status, error_type, summary)
    return dialect_of(request).error(request, status, error_type, summary)


def spec_error_body(status: int, error_type: str, summary: str) -> JSONResponse:
    """A TAMS error body (``error.json``)."""
    body = {"type": error_type, "summary": summary, "time": now_iso()}
    return JSONResponse(body, status_code=status)


# The reasons of Starlette's own HTTP errors (no such path, ...), by status.
_HTTP_ERROR_REASONS: dict[int, ErrorReason] = {
    404: common_pb2.ERROR_REASON_NOT_FOUND,
    405: common_pb2.ERROR_REASON_METHOD_NOT_ALLOWED,
}


def http_error_response(status: int, detail: str, request: Request | None = None) -> JSONResponse:
    """The answer to an HTTP error of the web framework itself."""
    reason = _HTTP_ERROR_REASONS.get(status, common_pb2.ERROR_REASON_HTTP_ERROR)
    return error_response(status, reason, detail, request)


# Ids the gateway takes from the path: one the server calls malformed names no
# resource, and TAMS answers 404 for it ("404 ... for an invalid Flow ID").
PATH_ID_FIELDS = frozenset({"flow_id", "source_id", "profile_id", "request_id", "object_id"})


def details_of(error: grpc.aio.AioRpcError) -> tuple[str, list[str], dict[str, str]]:
    """The ErrorInfo reason ("" if none) and metadata, and the fields BadRequest names."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    reason, fields, metadata = "", [], {}
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = str(info.reason), dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return reason, fields, metadata


def rpc_error_response(error: grpc.aio.AioRpcError, request: Request) -> JSONResponse:
    """The HTTP answer to a failed call made for ``request``, in its dialect."""
    reason, fields, metadata = details_of(error)
    status = reason_status(reason_named(reason), request.method) or HTTP_STATUS.get(
        error.code(), 500
    )
    if (
        error.code() == grpc.StatusCode.INVALID_ARGUMENT
        and fields
        and set(fields) <= PATH_ID_FIELDS
    ):
        status = 404
    if status == 500:
        return error_response(500, common_pb2.ERROR_REASON_INTERNAL, "internal error", request)
    dialect = dialect_of(request)
    status = dialect.rpc_status(request, error, status)
    response = dialect.error(request, status, reason or error.code().name, error.details() or "")
    if status == 401:
        for challenge in challenges(reason, metadata.get(SCHEMES_KEY, "Bearer")):
            response.headers.append("WWW-Authenticate", challenge)
    return response


# ErrorInfo metadata of authentication failures: the schemes the server accepts.
SCHEMES_KEY = "authSchemes"
REALM = "tams"


def challenges(reason: str, schemes: str) -> list[str]:
    """The ``WWW-Authenticate`` challenges of a 401: one per scheme the server accepts;
    the Bearer one says ``invalid_token`` when a token was sent and refused (RFC 6750:
    not when none was sent)."""
    answers = []
    for scheme in schemes.split():
        if scheme == "Bearer":
            error = ', error="invalid_token"' if reason.startswith("TOKEN_") else ""
            answers.append(f'Bearer realm="{REALM}"{error}')
        elif scheme == "Basic":
            answers.append(f'Basic realm="{REALM}", charset="UTF-8"')
    return answers or [f'Bearer realm="{REALM}"']
