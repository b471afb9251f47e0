"""The JSON a receiver gets: the TAMS event envelope
``{"event_timestamp", "event_type", "event"}`` with the bodies of the spec's webhook
section, shaped as the REST gateway shapes its resources."""

from __future__ import annotations

from typing import Any

from tams.v1 import events_pb2
from tams_server.domain.events import EventType
from tams_server.gateway.media_shapes import segment_to_json
from tams_server.gateway.shapes import flow_to_json, source_to_json

JsonObject = dict[str, Any]


def event_type_name(event: events_pb2.Event) -> str:
    """The TAMS name of an event's type (``flows/created``)."""
    name = events_pb2.EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    return EventType[name].value


def envelope(event: events_pb2.Event) -> JsonObject:
    """The whole JSON body of one delivery."""
    return {
        "event_timestamp": event.event_timestamp.ToJsonString(),
        "event_type": event_type_name(event),
        "event": _body(event),
    }


def _body(event: events_pb2.Event) -> JsonObject:
    match event.WhichOneof("event"):
        case "flow":
            return {"flow": flow_to_json(event.flow)}
        case "source":
            return {"source": source_to_json(event.source)}
        case "flow_id":
            return {"flow_id": event.flow_id}
        case "source_id":
            return {"source_id": event.source_id}
        case "segments_added":
            added = event.segments_added
            return {
                "flow_id": added.flow_id,
                "segments": [segment_to_json(segment) for segment in added.segments],
            }
        case "segments_deleted":
            deleted = event.segments_deleted
            return {"flow_id": deleted.flow_id, "timerange": deleted.timerange}
    raise ValueError(f"event {event.cursor} has no body")
