"""Errors as the usage guide shows them: ``{"detail", "error_code", "timestamp"}``;
validation errors with ``detail`` a list of ``{"loc", "msg", "type"}`` naming the
guide's fields; 409 for conflicts with what is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse

from tams_server.gateway.dialects.guide_requests import guide_location

# The attribute of ``request.state`` naming the spec route a guide request went to
# (``guide_routes`` sets it), for the guide's names in validation errors.
ROUTE_KEY = "tams_guide_route"
# Schema keywords as the guide's validation error types (pydantic's, which it shows).
_TYPES = {
    "required": "value_error.missing",
    "type": "type_error",
    "exclusiveminimum": "value_error.number.not_gt",
    "minimum": "value_error.number.not_ge",
    "maximum": "value_error.number.not_le",
    "exclusivemaximum": "value_error.number.not_lt",
    "enum": "type_error.enumeration",
    "pattern": "value_error.str.regex",
    "format": "value_error.format",
    "const": "value_error.const",
}


def timestamp() -> str:
    """The time of an error, as the guide writes it (``2024-12-20T10:00:00Z``)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def guide_error(
    request: Request | None,
    status: int,
    error_type: str,
    summary: str,
    *,
    where: tuple[str | int, ...] = (),
    kind: str = "",
    message: str = "",
) -> JSONResponse:
    """The guide's error body; with ``where`` (a schema check's refusal), its
    validation error naming the guide's fields."""
    detail: Any = summary
    if where:
        key = getattr(request.state, ROUTE_KEY, None) if request is not None else None
        loc = guide_location(key, where) if key is not None else list(where)
        detail = [{"loc": loc, "msg": message or summary, "type": _TYPES.get(kind, "value_error")}]
    body = {"detail": detail, "error_code": error_type, "timestamp": timestamp()}
    return JSONResponse(body, status_code=status)


def guide_rpc_status(request: Request, error: grpc.aio.AioRpcError, status: int) -> int:
    """409 for what conflicts with stored state (an id already taken), except the
    Object ids of a storage allocation, which the guide answers 400."""
    if error.code() == grpc.StatusCode.ALREADY_EXISTS and not request.url.path.endswith(
        ("/storage", "/storage/batch")
    ):
        return 409
    return status
