"""Rules for Object ids and uploads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tams_server.domain.errors import InvalidArgument, Reason

MAX_ALLOCATION = 10_000


def check_object_id(object_id: str, field: str) -> str:
    """An Object id is opaque and may hold ``/`` (TAMS), but it becomes part of a
    storage key: no empty, ``.`` or ``..`` segments, no backslash or NUL."""
    if not object_id:
        raise InvalidArgument.for_field(field, "is required", reason=Reason.MISSING_FIELD)
    parts = object_id.split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
        raise InvalidArgument.for_field(
            field, f"{object_id!r} has an empty, '.' or '..' segment, a backslash or a NUL"
        )
    return object_id


@dataclass(frozen=True, slots=True)
class ObjectLocation:
    """Where an Object's bytes are: its first copy (storage id and key, or None), the
    further controlled copies, and the uncontrolled URLs (dicts with url and label)."""

    storage_id: str | None
    storage_key: str | None
    copies: Sequence[tuple[str, str]] = ()
    uncontrolled: Sequence[dict[str, str]] = ()
