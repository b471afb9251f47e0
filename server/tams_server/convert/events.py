"""Events <-> tams.v1.Event: the outbox keeps each event as the message the
EventService sends (without its cursor, which the database gives)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from tams.v1 import events_pb2
from tams_server.convert.common import set_time
from tams_server.convert.flows import flow_to_proto
from tams_server.convert.get_urls import GetUrlWriter
from tams_server.convert.segments import fill_segments, object_timerange_of
from tams_server.convert.sources import source_to_proto
from tams_server.domain.errors import FieldViolation, InvalidArgument
from tams_server.domain.events import (
    Event,
    EventType,
    FlowChanged,
    FlowDeleted,
    SegmentsAdded,
    SegmentsDeleted,
    SourceChanged,
    SourceDeleted,
)
from tams_server.domain.objects import ObjectLocation
from tams_server.domain.segments import ListedSegment, Segment, stored_timerange
from tams_server.domain.timerange import TimeRange, format_timerange

_TO_PROTO: dict[EventType, events_pb2.EventType.ValueType] = {
    kind: events_pb2.EventType.Value(f"EVENT_TYPE_{kind.name}") for kind in EventType
}
_TO_DOMAIN = {number: kind for kind, number in _TO_PROTO.items()}


def event_payload(event: Event, timestamp_ns: int) -> bytes:
    """The stored form of an event that happened at ``timestamp_ns``."""
    message = events_pb2.Event(event_type=_TO_PROTO[event.type])
    set_time(message.event_timestamp, timestamp_ns)
    match event:
        case FlowChanged(flow=flow):
            message.flow.CopyFrom(flow_to_proto(flow))
        case SourceChanged(source=source):
            message.source.CopyFrom(source_to_proto(source))
        case FlowDeleted(flow_id=flow_id):
            message.flow_id = flow_id
        case SourceDeleted(source_id=source_id):
            message.source_id = source_id
        case SegmentsAdded():
            message.segments_added.flow_id = event.flow_id
            _fill_added(message.segments_added.segments, event.segments)
        case SegmentsDeleted():
            message.segments_deleted.flow_id = event.flow_id
            message.segments_deleted.timerange = format_timerange(
                TimeRange(event.start_ns, event.end_ns)
            )
    return message.SerializeToString()


Locations = Callable[[set[str]], Awaitable[Mapping[str, ObjectLocation]]]
"""Where the bytes of Objects are, by id (``store.outbox.EventLog.locations``)."""


async def finish_added_segments(
    events: Iterable[events_pb2.Event],
    include_object_timerange: bool,
    urls: GetUrlWriter | None,
    locations: Locations,
) -> None:
    """Shape the Segments of ``flows/segments_added`` events for one reader: their
    ``object_timerange`` as asked, and ``get_urls`` made now by ``urls`` (None: none),
    with one lookup of where all their Objects are."""
    added = [e.segments_added for e in events if e.WhichOneof("event") == "segments_added"]
    segments = [segment for body in added for segment in body.segments]
    for segment in segments:
        if not include_object_timerange:
            segment.ClearField("object_timerange")
        elif not segment.HasField("object_timerange"):  # stored only when given
            offset = segment.ts_offset if segment.HasField("ts_offset") else None
            segment.object_timerange = object_timerange_of(segment.timerange, offset)
    if urls is None or not segments:
        return
    wanted = {s.object_id for s in segments}
    wanted.update(s.init_object.object_id for s in segments if s.init_object.object_id)
    places = await locations(wanted)
    for segment in segments:
        place = places.get(segment.object_id)
        urls.fill(segment.get_urls, place)
        if place is not None and place.storage_key is not None:
            segment.storage_path = place.storage_key
        if segment.init_object.object_id:
            urls.fill(segment.init_object.get_urls, places.get(segment.init_object.object_id))


def event_types_to_domain(
    numbers: Sequence[events_pb2.EventType.ValueType], field: str
) -> list[EventType]:
    """The event types a request names; INVALID_ARGUMENT for unknown ones."""
    kinds: list[EventType] = []
    violations: list[FieldViolation] = []
    for index, number in enumerate(numbers):
        kind = _TO_DOMAIN.get(number)
        if kind is None:
            violations.append(FieldViolation(f"{field}[{index}]", f"unknown event type {number}"))
        else:
            kinds.append(kind)
    if violations:
        raise InvalidArgument(
            f"{violations[0].field}: {violations[0].description}", field_violations=violations
        )
    return kinds


def _fill_added(target: Any, segments: Sequence[Segment]) -> None:
    """The added Segments as a listing without URLs has them, with the
    ``object_timerange`` a client gave; a reader that wants the others works them
    out (``object_timerange_of``), which would cost every registration a sixth more."""
    fill_segments(target, [_listed(s) for s in segments], include_object_timerange=False)
    for message, segment in zip(target, segments, strict=True):
        if segment.post.object_timerange is not None:
            message.object_timerange = segment.post.object_timerange


def _listed(segment: Segment) -> ListedSegment:
    p = segment.post
    start, end = segment.start_ns, segment.end_ns
    return (
        start, end, stored_timerange(p, start, end), p.object_id, p.ts_offset, p.last_duration,
        p.object_timerange, p.sample_offset, p.sample_count, p.key_frame_count,
        p.init_object_id, None, None, None, None,
    )  # fmt: skip
