"""Content format URNs (TAMS `content-format.json`)."""

from __future__ import annotations

from typing import Final

from tams_server.domain.errors import InvalidArgument, Reason

VIDEO: Final = "urn:x-nmos:format:video"
AUDIO: Final = "urn:x-nmos:format:audio"
DATA: Final = "urn:x-nmos:format:data"
MULTI: Final = "urn:x-nmos:format:multi"
IMAGE: Final = "urn:x-tam:format:image"  # note x-tam, not x-nmos

ALL_FORMATS: Final = (VIDEO, AUDIO, DATA, MULTI, IMAGE)


def check_format(value: str, field: str) -> str:
    """Return ``value`` if it is one of the TAMS format URNs, else INVALID_ARGUMENT."""
    if not value:
        raise InvalidArgument.for_field(field, "is required", reason=Reason.MISSING_FIELD)
    if value not in ALL_FORMATS:
        raise InvalidArgument.for_field(
            field,
            f"unknown format {value!r}; expected one of {', '.join(ALL_FORMATS)}",
            reason=Reason.INVALID_FORMAT,
        )
    return value
