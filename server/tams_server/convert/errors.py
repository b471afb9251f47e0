"""Domain error categories as gRPC status codes: the one table (design decision 6)."""

from __future__ import annotations

import grpc

from tams.v1 import common_pb2
from tams_server.domain import errors

CODES: dict[type[errors.TamsError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.Aborted: grpc.StatusCode.ABORTED,
    errors.OutOfRange: grpc.StatusCode.OUT_OF_RANGE,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
}


def status_code_of(error: errors.TamsError) -> grpc.StatusCode:
    """The gRPC code of a domain error, by its category (MRO order)."""
    for cls in type(error).__mro__:
        if cls in CODES:
            return CODES[cls]
    return grpc.StatusCode.UNKNOWN


def item_error(error: errors.TamsError) -> common_pb2.ItemError:
    """The error of one refused item of a partly successful call, with the same code,
    reason and field violations a failed call would carry."""
    return common_pb2.ItemError(
        code=status_code_of(error).value[0],
        reason=error.reason.name,
        message=error.message,
        field_violations=[
            common_pb2.FieldViolation(field=v.field, description=v.description)
            for v in getattr(error, "field_violations", ())
        ],
        metadata=error.metadata,
    )
