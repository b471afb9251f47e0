"""Domain errors: plain Python exceptions that name a category, a stable reason and
the details a caller needs. One interceptor maps the categories to gRPC codes; the
domain never imports grpc.

Reasons are the members of ``Reason``, the one catalogue of them (AIP-193
``ErrorInfo.reason``); every dynamic part of a message also goes into ``metadata``
(lowerCamel keys) so callers never parse message text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum, auto


class Reason(StrEnum):
    """Every stable reason the service reports, the server and its gateway alike.

    The proto enum ``tams.v1.ErrorReason`` mirrors it value for value (there each name
    has the ``ERROR_REASON_`` prefix), so clients can switch on it; a unit test keeps the
    two equal. Each value is its own name: that string is what ``ErrorInfo.reason``,
    ``ItemError.reason`` and the ``type`` of a REST error body carry.
    """

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[str]) -> str:
        return name

    # The request itself.
    INVALID_ARGUMENT = auto()
    MISSING_FIELD = auto()
    INVALID_ID = auto()
    INVALID_FORMAT = auto()
    INVALID_TEXT = auto()
    INVALID_TIMERANGE = auto()
    INVALID_PAGE_TOKEN = auto()
    INVALID_UPDATE_MASK = auto()
    BATCH_TOO_LARGE = auto()
    # Sources and Flows.
    SOURCE_NOT_FOUND = auto()
    SOURCE_ALREADY_EXISTS = auto()
    SOURCE_DELETED = auto()
    SOURCE_HAS_FLOWS = auto()
    FLOW_NOT_FOUND = auto()
    FLOW_ALREADY_EXISTS = auto()
    FLOW_DELETED = auto()
    FLOW_READ_ONLY = auto()
    FORMAT_MISMATCH = auto()
    TAG_NOT_FOUND = auto()
    COLLECTION_MEMBER_NOT_FOUND = auto()
    FLOW_DELETE_REQUEST_NOT_FOUND = auto()
    # Profiles.
    PROFILE_NOT_FOUND = auto()
    PROFILE_ALREADY_EXISTS = auto()
    PROFILE_CONFLICT = auto()
    FLOW_HAS_PROFILE = auto()
    # Segments and the media objects they name.
    SEGMENT_OVERLAP = auto()
    OBJECT_UNKNOWN = auto()
    OBJECT_NOT_UPLOADED = auto()
    OBJECT_OF_ANOTHER_FLOW = auto()
    OBJECT_KIND_MISMATCH = auto()
    OBJECT_TIMERANGE_MISMATCH = auto()
    OBJECT_PROPERTY_MISMATCH = auto()
    GET_URL_LABEL_TAKEN = auto()
    OBJECT_NOT_FOUND = auto()
    OBJECT_IDS_TAKEN = auto()
    FLOW_HAS_NO_CONTAINER = auto()
    INSTANCE_EXISTS = auto()
    INSTANCE_NOT_FOUND = auto()
    LAST_INSTANCE = auto()
    NO_CONTROLLED_COPY = auto()
    # Storage and multipart uploads.
    UNKNOWN_STORAGE = auto()
    STORAGE_NOT_CONFIGURED = auto()
    STORAGE_UNAVAILABLE = auto()
    OBJECT_NOT_ALLOCATED = auto()
    OBJECT_IN_USE = auto()
    MULTIPART_UPLOAD_NOT_FOUND = auto()
    MULTIPART_PART_MISSING = auto()
    MULTIPART_PART_NOT_UPLOADED = auto()
    MULTIPART_PARTS_OUT_OF_ORDER = auto()
    MULTIPART_PART_TOO_SMALL = auto()
    MULTIPART_ETAG_MISMATCH = auto()
    # Concurrency.
    CONCURRENT_CHANGE = auto()
    # Found by the REST gateway itself, before or instead of a call.
    PROPERTY_NOT_SET = auto()
    BODY_TOO_LARGE = auto()
    NOT_FOUND = auto()
    METHOD_NOT_ALLOWED = auto()
    HTTP_ERROR = auto()
    INTERNAL = auto()
    # Authentication: the caller did not prove who it is (UNAUTHENTICATED, REST 401).
    CREDENTIALS_MISSING = auto()
    CREDENTIALS_MALFORMED = auto()
    CREDENTIALS_SCHEME_UNSUPPORTED = auto()
    TOKEN_EXPIRED = auto()
    TOKEN_NOT_YET_VALID = auto()
    TOKEN_INVALID = auto()
    TOKEN_ISSUER_MISMATCH = auto()
    TOKEN_AUDIENCE_MISMATCH = auto()
    BASIC_CREDENTIALS_INVALID = auto()
    # Authorisation: known, but without the scope the call needs (PERMISSION_DENIED).
    SCOPE_MISSING = auto()
    AUTH_CLASS_DENIED = auto()
    # Events.
    EVENT_CURSOR_EXPIRED = auto()
    EVENT_CURSOR_AHEAD = auto()
    # Webhooks.
    WEBHOOK_NOT_FOUND = auto()
    WEBHOOK_URL_FORBIDDEN = auto()
    WEBHOOK_STATUS_CHANGE = auto()
    # The service itself.
    DATABASE_BUSY = auto()


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
        reason: Reason,
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
        reason: Reason = Reason.INVALID_ARGUMENT,
        field_violations: Sequence[FieldViolation] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.field_violations = list(field_violations)

    @classmethod
    def for_field(
        cls, field: str, description: str, *, reason: Reason = Reason.INVALID_ARGUMENT
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


class OutOfRange(TamsError):
    """A position (an event cursor) outside what the service holds."""


class Unavailable(TamsError):
    """A part the service depends on (an object store) did not answer; retry later."""
