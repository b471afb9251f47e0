"""Events: what changed, as the TAMS event types name it (spec `webhooks`, ADR 0014).

A change records its events in the write transaction that makes it (the outbox,
design decision 8); readers get them in commit order. The bodies are the spec's:
a Flow or Source as it is after the change, an id for a deletion, the Segments added,
the timerange deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tams_server.domain.access import classes_of
from tams_server.domain.models import Flow, Source
from tams_server.domain.segments import Segment


class EventType(StrEnum):
    """The TAMS event types (`event_type`)."""

    FLOW_CREATED = "flows/created"
    FLOW_UPDATED = "flows/updated"
    FLOW_DELETED = "flows/deleted"
    FLOW_SEGMENTS_ADDED = "flows/segments_added"
    FLOW_SEGMENTS_DELETED = "flows/segments_deleted"
    SOURCE_CREATED = "sources/created"
    SOURCE_UPDATED = "sources/updated"
    SOURCE_DELETED = "sources/deleted"


@dataclass(frozen=True, slots=True)
class FlowChanged:
    """`flows/created` or `flows/updated`: the Flow as it is now."""

    flow: Flow
    created: bool

    @property
    def type(self) -> EventType:
        return EventType.FLOW_CREATED if self.created else EventType.FLOW_UPDATED


@dataclass(frozen=True, slots=True)
class FlowDeleted:
    """`flows/deleted` (for good, softly, or handed to a delete request)."""

    flow_id: str
    source_id: str
    classes: tuple[str, ...]
    type = EventType.FLOW_DELETED


@dataclass(frozen=True, slots=True)
class SegmentsAdded:
    """`flows/segments_added`: one event for the Segments one transaction stored."""

    flow_id: str
    source_id: str
    classes: tuple[str, ...]
    segments: Sequence[Segment]
    type = EventType.FLOW_SEGMENTS_ADDED


@dataclass(frozen=True, slots=True)
class SegmentsDeleted:
    """`flows/segments_deleted`: from the start of the first to the end of the last
    Segment deleted, so the timerange starts and ends inside deleted Segments."""

    flow_id: str
    source_id: str
    classes: tuple[str, ...]
    start_ns: int
    end_ns: int
    type = EventType.FLOW_SEGMENTS_DELETED


@dataclass(frozen=True, slots=True)
class SourceChanged:
    """`sources/created` or `sources/updated`: the Source as it is now."""

    source: Source
    created: bool

    @property
    def type(self) -> EventType:
        return EventType.SOURCE_CREATED if self.created else EventType.SOURCE_UPDATED


@dataclass(frozen=True, slots=True)
class SourceDeleted:
    """`sources/deleted`: the last Flow of a Source went."""

    source_id: str
    classes: tuple[str, ...]
    type = EventType.SOURCE_DELETED


Event = FlowChanged | FlowDeleted | SegmentsAdded | SegmentsDeleted | SourceChanged | SourceDeleted


@dataclass(frozen=True, slots=True)
class EventKeys:
    """What readers filter an event by, kept beside its body."""

    type: EventType
    flow_id: str | None
    source_id: str | None
    classes: tuple[str, ...]


def keys_of(event: Event) -> EventKeys:
    """The filter keys of an event: Flow events name their Flow and its Source."""
    match event:
        case FlowChanged(flow=flow):
            return EventKeys(event.type, flow.id, flow.source_id, classes_of(flow.tags))
        case SourceChanged(source=source):
            return EventKeys(event.type, None, source.id, classes_of(source.tags))
        case SourceDeleted():
            return EventKeys(event.type, None, event.source_id, event.classes)
        case _:
            return EventKeys(event.type, event.flow_id, event.source_id, event.classes)
