"""What a listing asks for: filters and order, as plain values.

A query's ``repr`` is deterministic, so its fingerprint binds page tokens to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from tams_server.domain.tags import TagFilter

T = TypeVar("T")

SourceSortKey = Literal["created", "updated", "label"]
FlowSortKey = Literal["created", "metadata_updated", "label"]


@dataclass(frozen=True)
class SourceQuery:
    """Filters and order of a Source listing (TAMS GET /sources)."""

    label: str | None = None
    label_prefix: str | None = None
    format: str | None = None
    tags: tuple[TagFilter, ...] = ()
    collected_by_ids: tuple[str, ...] = ()
    not_collected: bool = False
    sort_by: SourceSortKey = "created"
    reverse_order: bool = False
    show_deleted: bool = False


@dataclass(frozen=True)
class TimeBounds:
    """A query timerange as half-open nanosecond bounds; ``never`` matches Flows that
    have no Segments at all (TAMS ``timerange=()``)."""

    start_ns: int
    end_ns: int
    never: bool = False


@dataclass(frozen=True)
class FlowQuery:
    """Filters and order of a Flow listing (TAMS GET /flows)."""

    source_id: str | None = None
    timerange: TimeBounds | None = None
    format: str | None = None
    codec: str | None = None
    label: str | None = None
    label_prefix: str | None = None
    frame_width: int | None = None
    frame_height: int | None = None
    tags: tuple[TagFilter, ...] = ()
    profile_id: str | None = None
    status: str | None = None
    init_segments: bool | None = None
    collected_by_ids: tuple[str, ...] = ()
    not_collected: bool = False
    sort_by: FlowSortKey = "created"
    reverse_order: bool = False
    show_deleted: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing."""

    items: list[T]
    next_page_token: str
    page_size: int


@dataclass(frozen=True)
class WebhookQuery:
    """Filters and order of a webhook listing (TAMS GET /service/webhooks: by url)."""

    tags: tuple[TagFilter, ...] = ()
    reverse_order: bool = False
