"""Rules a Source must satisfy before it is stored (TAMS `source.json`)."""

from __future__ import annotations

from tams_server.domain import formats
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.ids import check_uuid
from tams_server.domain.models import Source


def validate_source(source: Source, *, path: str = "source") -> None:
    """Check id, format and tag names."""
    check_uuid(source.id, f"{path}.id")
    formats.check_format(source.format, f"{path}.format")
    for name in source.tags:
        if not name:
            raise InvalidArgument.for_field(f"{path}.tags", "tag names must not be empty")
