"""Objects: rules for their ids and uploads, where their bytes are, which of their
URLs a request wants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.domain.tags import TagFilter

MAX_ALLOCATION = 10_000
# Objects allocated for a request naming neither a limit nor ids (TAMS lets the service
# choose; a client written to another store sends `{}`).
DEFAULT_ALLOCATION = 10


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


@dataclass(frozen=True)
class ObjectRecord:
    """A registered Object: its properties and where its bytes are."""

    id: str
    first_flow_id: str | None
    content_type: str | None
    kind: str | None
    timerange: str | None
    key_frame_count: int | None
    init_object_id: str | None
    location: ObjectLocation


@dataclass(frozen=True)
class UrlFilters:
    """Which ``get_urls`` a request lets through (TAMS ``accept_get_urls``,
    ``accept_storage_ids``, ``presigned``, ``verbose_storage``,
    ``storage_backend_tag.*``). ``labels``/``storage_ids`` None: no filter."""

    labels: frozenset[str] | None = None
    storage_ids: frozenset[str] | None = None
    presigned: bool | None = None
    verbose: bool = False
    backend_tags: tuple[TagFilter, ...] = ()

    @property
    def none_wanted(self) -> bool:
        """``accept_get_urls=`` (given, empty): no URLs at all, so none are signed."""
        return self.labels is not None and not self.labels
