"""Domain errors: plain Python exceptions that name a category, a stable reason and
the details a caller needs. One interceptor maps the categories to gRPC codes; the
domain never imports grpc.

Reasons are stable UPPER_SNAKE constants (AIP-193 ``ErrorInfo.reason``); every dynamic
part of a message also goes into ``metadata`` (lowerCamel keys) so callers never parse
message text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    """One offending request field, named by its path (``flow.essence_parameters``)."""

    field: str
    description: str


class TamsError(Exception):
    """Base of every error the service reports to callers on purpose."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(TamsError):
    """The request itself is wrong, whatever the state of the store."""

    def __init__(
        self,
        message: str,
        *,
        reason: str = "INVALID_ARGUMENT",
        field_violations: Sequence[FieldViolation] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.field_violations = list(field_violations)

    @classmethod
    def for_field(
        cls, field: str, description: str, *, reason: str = "INVALID_ARGUMENT"
    ) -> InvalidArgument:
        """An error about a single field, its message built from the violation."""
        return cls(
            f"{field}: {description}",
            reason=reason,
            field_violations=[FieldViolation(field, description)],
        )


class NotFound(TamsError):
    """The named resource does not exist (or is hidden, e.g. soft-deleted)."""


class AlreadyExists(TamsError):
    """A resource with the given id exists already."""


class FailedPrecondition(TamsError):
    """The request is well formed but the current state refuses it."""


class PermissionDenied(TamsError):
    """The caller is known but may not do this."""


class Unauthenticated(TamsError):
    """The caller did not prove who it is."""


class Aborted(TamsError):
    """A concurrent change won; retrying the request may succeed."""


class Unavailable(TamsError):
    """A part the service depends on (an object store) did not answer; retry later."""


# Stable reasons used across the service.
FLOW_NOT_FOUND = "FLOW_NOT_FOUND"
SOURCE_NOT_FOUND = "SOURCE_NOT_FOUND"
TAG_NOT_FOUND = "TAG_NOT_FOUND"
FLOW_ALREADY_EXISTS = "FLOW_ALREADY_EXISTS"
SOURCE_ALREADY_EXISTS = "SOURCE_ALREADY_EXISTS"
FLOW_READ_ONLY = "FLOW_READ_ONLY"
FORMAT_MISMATCH = "FORMAT_MISMATCH"
SOURCE_DELETED = "SOURCE_DELETED"
FLOW_DELETED = "FLOW_DELETED"
SOURCE_HAS_FLOWS = "SOURCE_HAS_FLOWS"
COLLECTION_MEMBER_NOT_FOUND = "COLLECTION_MEMBER_NOT_FOUND"
INVALID_PAGE_TOKEN = "INVALID_PAGE_TOKEN"
INVALID_TIMERANGE = "INVALID_TIMERANGE"
INVALID_ID = "INVALID_ID"
INVALID_FORMAT = "INVALID_FORMAT"
INVALID_TEXT = "INVALID_TEXT"
MISSING_FIELD = "MISSING_FIELD"
INVALID_UPDATE_MASK = "INVALID_UPDATE_MASK"
BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
CONCURRENT_CHANGE = "CONCURRENT_CHANGE"
PROFILE_NOT_FOUND = "PROFILE_NOT_FOUND"
PROFILE_ALREADY_EXISTS = "PROFILE_ALREADY_EXISTS"
FLOW_HAS_PROFILE = "FLOW_HAS_PROFILE"
PROFILE_CONFLICT = "PROFILE_CONFLICT"
STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
