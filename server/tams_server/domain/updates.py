"""Single-property updates: which paths may change, and checks on the new values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tams_server.domain.errors import FieldViolation, InvalidArgument, Reason

MAX_BATCH = 1000


def check_update_paths(
    paths: Sequence[str], allowed: Iterable[str], *, field: str = "update_mask"
) -> list[str]:
    """The mask's paths, if there are some and each names an updatable property."""
    allowed = tuple(allowed)
    if not paths:
        raise InvalidArgument.for_field(
            field, f"name at least one of {', '.join(allowed)}", reason=Reason.INVALID_UPDATE_MASK
        )
    unknown = [path for path in paths if path not in allowed]
    if unknown:
        raise InvalidArgument(
            f"{field}: {unknown[0]!r} cannot be updated; updatable: {', '.join(allowed)}",
            reason=Reason.INVALID_UPDATE_MASK,
            field_violations=[
                FieldViolation(field, f"{path!r} is not an updatable property") for path in unknown
            ],
        )
    return list(dict.fromkeys(paths))


def pick(values: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """The new value of each path (None deletes the property)."""
    return {path: values[path] for path in paths}


def check_batch(items: Sequence[Any], ids: Sequence[str], *, field: str) -> None:
    """A batch holds 1 to MAX_BATCH items with distinct ids."""
    if not items:
        raise InvalidArgument.for_field(field, "must hold at least one item")
    if len(items) > MAX_BATCH:
        raise InvalidArgument.for_field(
            field,
            f"holds {len(items)} items; at most {MAX_BATCH} per call",
            reason=Reason.BATCH_TOO_LARGE,
        )
    seen: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in seen:
            raise InvalidArgument.for_field(
                f"{field}[{index}].id", f"repeats the id of {field}[{seen[item_id]}]"
            )
        seen[item_id] = index
