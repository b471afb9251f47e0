"""Rules for Object ids and uploads."""

from __future__ import annotations

from tams_server.domain.errors import MISSING_FIELD, InvalidArgument

MAX_ALLOCATION = 10_000


def check_object_id(object_id: str, field: str) -> str:
    """An Object id is opaque and may hold ``/`` (TAMS), but it becomes part of a
    storage key: no empty, ``.`` or ``..`` segments, no backslash or NUL."""
    if not object_id:
        raise InvalidArgument.for_field(field, "is required", reason=MISSING_FIELD)
    parts = object_id.split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
        raise InvalidArgument.for_field(
            field, f"{object_id!r} has an empty, '.' or '..' segment, a backslash or a NUL"
        )
    return object_id
