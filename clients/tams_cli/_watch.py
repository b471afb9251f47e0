"""``tams watch``: follow the store's events (WatchEvents, resumed after a dropped
stream) and print each added Segment, or every event, as it commits."""

from __future__ import annotations

from collections.abc import Sequence

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
    """Print events until ``count`` have come (0: until interrupted)."""
    seen = 0
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
            _print(event, as_json)
            seen += 1
            if count and seen >= count:
                return


def _print(event: events_pb2.Event, as_json: bool) -> None:
    if as_json:
        print_json(as_dict(event))
        return
    body = event.WhichOneof("event")
    if body == "segments_added":
        added = event.segments_added
        for segment in added.segments:
            out.print(f"{added.flow_id}  {segment.timerange}  {segment.object_id}")
        return
    kind = events_pb2.EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()
    subject = {"flow": event.flow.id, "source": event.source.id}.get(body or "", "")
    if body in ("flow_id", "source_id"):
        subject = getattr(event, body)
    elif body == "segments_deleted":
        subject = event.segments_deleted.flow_id
    out.print(f"{kind}  {subject}")
