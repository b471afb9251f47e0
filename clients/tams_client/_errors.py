"""Exceptions of the client: one class per gRPC status code, carrying the server's
``ErrorInfo`` reason and metadata and its ``BadRequest`` field violations."""

from __future__ import annotations

from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from tams.v1 import common_pb2

ERRORS_BY_CODE: dict[grpc.StatusCode, type[TamsClientError]] = {}
"""The exception class of each status code that has its own."""


class TamsClientError(Exception):
    """A call failed. ``reason`` is the stable machine-readable cause (e.g.
    ``FLOW_READ_ONLY``); ``field_violations`` lists (field, description) pairs."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init_subclass__(cls, *, code: grpc.StatusCode | None = None, **kwargs: Any) -> None:
        """A subclass given a ``code`` is the exception of that code."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
            ERRORS_BY_CODE[code] = cls

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


class InvalidArgumentError(TamsClientError, code=grpc.StatusCode.INVALID_ARGUMENT):
    """The request was malformed."""


class NotFoundError(TamsClientError, code=grpc.StatusCode.NOT_FOUND):
    """The resource does not exist."""


class AlreadyExistsError(TamsClientError, code=grpc.StatusCode.ALREADY_EXISTS):
    """The id is taken."""


class FailedPreconditionError(TamsClientError, code=grpc.StatusCode.FAILED_PRECONDITION):
    """The current state refuses the request."""


class PermissionDeniedError(TamsClientError, code=grpc.StatusCode.PERMISSION_DENIED):
    """The caller may not do this."""


class UnauthenticatedError(TamsClientError, code=grpc.StatusCode.UNAUTHENTICATED):
    """The caller is not authenticated."""


class TokenRequestError(UnauthenticatedError):
    """The client could not get a token from its OAuth2 token endpoint: unreachable,
    or it refused (``status_code``, and the RFC 6749 ``error`` code in ``oauth_error``).
    The message names the endpoint, never the client secret."""

    def __init__(self, message: str, *, status_code: int | None = None, oauth_error: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.oauth_error = oauth_error


class AbortedError(TamsClientError, code=grpc.StatusCode.ABORTED):
    """A concurrent change won; retrying may succeed."""


class UnavailableError(TamsClientError, code=grpc.StatusCode.UNAVAILABLE):
    """The service cannot be reached now."""


class DeadlineExceededError(TamsClientError, code=grpc.StatusCode.DEADLINE_EXCEEDED):
    """The call ran out of time."""


class InternalError(TamsClientError, code=grpc.StatusCode.INTERNAL):
    """The service failed."""


class UnimplementedError(TamsClientError, code=grpc.StatusCode.UNIMPLEMENTED):
    """The service does not offer this method yet."""


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
