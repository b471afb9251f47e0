"""``tams watch``: follow the store's events (WatchEvents, resumed after a dropped
stream) and print each added Segment, or every event, as it commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tams.v1 import events_pb2
from tams_cli._output import as_dict, err, out, print_json
from tams_client import AsyncTamsClient

SEGMENTS_ADDED = "flows/segments_added"


async def follow(
    client: AsyncTamsClient,
    flow_ids: Sequence[str],
    source_ids: Sequence[str],
    after: str,
    count: int,
    all_events: bool,
    as_json: bool,
) -> None:
    """Print one line per added Segment (per event for the other kinds) until
    ``count`` lines (0: until interrupted)."""
    printed = 0
    replies = client.watch_events(
        after_cursor=after,
        event_types=() if all_events else (SEGMENTS_ADDED,),
        flow_ids=flow_ids,
        source_ids=source_ids,
    ).pages()
    first = True
    async for reply in replies:
        if first:  # the first reply comes at once: the watch is on
            err.print(f"watching (resume with --after {reply.resume_cursor})")
            first = False
        for event in reply.events:
            for line in _lines(event, as_json):
                if as_json:
                    print_json(line)
                else:
                    out.print(line)
                printed += 1
                if count and printed >= count:
                    return


def _lines(event: events_pb2.Event, as_json: bool) -> list[Any]:
    """What to print of ``event``: a line per added Segment, else one."""
    body = event.WhichOneof("event")
    if body == "segments_added":
        added = event.segments_added
        if as_json:
            return [
                {"event": SEGMENTS_ADDED, "flow_id": added.flow_id, "cursor": event.cursor,
                 "segment": as_dict(segment)}
                for segment in added.segments
            ]  # fmt: skip
        return [f"{added.flow_id}  {s.timerange}  {s.object_id}" for s in added.segments]
    if as_json:
        return [as_dict(event)]
    kind = events_pb2.EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()
    subject = {"flow": event.flow.id, "source": event.source.id}.get(body or "", "")
    if body in ("flow_id", "source_id"):
        subject = getattr(event, body)
    elif body == "segments_deleted":
        subject = event.segments_deleted.flow_id
    return [f"{kind}  {subject}"]
