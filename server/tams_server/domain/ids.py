"""Identifier rules of the TAMS spec (`uuid.json`)."""

from __future__ import annotations

import re

from tams_server.domain.errors import InvalidArgument, Reason

# Lower-case hex, version nibble 1-5, RFC 4122 variant: exactly the spec's pattern.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def is_uuid(value: str) -> bool:
    """True when ``value`` matches the TAMS UUID pattern."""
    return _UUID.fullmatch(value) is not None


def check_uuid(value: str, field: str) -> str:
    """Return ``value`` if it is a TAMS UUID, else raise INVALID_ARGUMENT naming ``field``."""
    if not value:
        raise InvalidArgument.for_field(field, "is required", reason=Reason.MISSING_FIELD)
    if not is_uuid(value):
        raise InvalidArgument.for_field(
            field,
            f"{value!r} is not a lower-case UUID (versions 1-5) as TAMS requires",
            reason=Reason.INVALID_ID,
        )
    return value
