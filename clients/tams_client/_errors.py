"""Exceptions of the client: one class per gRPC status code, carrying the server's
``ErrorInfo`` reason and metadata and its ``BadRequest`` field violations."""

from __future__ import annotations

from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from tams.v1 import common_pb2


class TamsClientError(Exception):
    """A call failed. ``reason`` is the stable machine-readable cause (e.g.
    ``FLOW_READ_ONLY``); ``field_violations`` lists (field, description) pairs."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        reason: str = "",
        metadata: dict[str, str] | None = None,
        field_violations: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.reason = reason
        self.metadata = metadata or {}
        self.field_violations = field_violations or []

    @property
    def error_reason(self) -> common_pb2.ErrorReason.ValueType:
        """``reason`` as a ``tams.v1.ErrorReason`` to switch on; UNSPECIFIED when there
        is none, or when the server knows a reason this client does not."""
        try:
            return common_pb2.ErrorReason.Value(f"ERROR_REASON_{self.reason}")
        except ValueError:
            return common_pb2.ERROR_REASON_UNSPECIFIED


class InvalidArgumentError(TamsClientError):
    """The request was malformed (INVALID_ARGUMENT)."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(TamsClientError):
    """The resource does not exist (NOT_FOUND)."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(TamsClientError):
    """The id is taken (ALREADY_EXISTS)."""

    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPreconditionError(TamsClientError):
    """The current state refuses the request (FAILED_PRECONDITION)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDeniedError(TamsClientError):
    """The caller may not do this (PERMISSION_DENIED)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class UnauthenticatedError(TamsClientError):
    """The caller is not authenticated (UNAUTHENTICATED)."""

    code = grpc.StatusCode.UNAUTHENTICATED


class AbortedError(TamsClientError):
    """A concurrent change won; retrying may succeed (ABORTED)."""

    code = grpc.StatusCode.ABORTED


class UnavailableError(TamsClientError):
    """The service cannot be reached now (UNAVAILABLE)."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceededError(TamsClientError):
    """The call ran out of time (DEADLINE_EXCEEDED)."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class InternalError(TamsClientError):
    """The service failed (INTERNAL)."""

    code = grpc.StatusCode.INTERNAL


class UnimplementedError(TamsClientError):
    """The service does not offer this method yet (UNIMPLEMENTED)."""

    code = grpc.StatusCode.UNIMPLEMENTED


ERRORS_BY_CODE: dict[grpc.StatusCode, type[TamsClientError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        AlreadyExistsError,
        FailedPreconditionError,
        PermissionDeniedError,
        UnauthenticatedError,
        AbortedError,
        UnavailableError,
        DeadlineExceededError,
        InternalError,
        UnimplementedError,
    )
}


def error_from_status(
    code: grpc.StatusCode, message: str, status: status_pb2.Status | None
) -> TamsClientError:
    """The exception for a failed call's code, message and rich status."""
    reason, metadata, violations = "", {}, []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [(v.field, v.description) for v in bad.field_violations]
    cls = ERRORS_BY_CODE.get(code, TamsClientError)
    return cls(message, code=code, reason=reason, metadata=metadata, field_violations=violations)


def error_from_rpc(error: grpc.RpcError) -> TamsClientError:
    """The exception for a failed call (sync or aio)."""
    call: Any = error
    status = rpc_status.from_call(call)
    return error_from_status(call.code(), call.details() or "", status)
