"""Retention by tags (TAMS AppNote 0019, ADR 0043).

- ``segment_retention_offset``: a Segment goes once its end plus the offset is past
  (the timeline is TAI, as the spec's timestamps are): everything up to ``now - offset``
  is deleted, as ``DELETE /flows/{id}/segments?timerange=_<now - offset>)`` would.
- ``flow_retention_offset``: the Flow goes once the later of its last metadata and
  Segment changes plus the offset is past (the service's own clock).

The offsets are TAMS timestamps (``86400:0``). A tag that is not one, or is negative,
retains nothing: tags are free text, so a bad value is reported, never acted on.
"""

from __future__ import annotations

from dataclasses import dataclass

from tams_server.domain.errors import InvalidArgument
from tams_server.domain.tags import TagValue
from tams_server.domain.timerange import parse_timestamp

SEGMENT_RETENTION_TAG = "segment_retention_offset"
FLOW_RETENTION_TAG = "flow_retention_offset"


@dataclass(frozen=True, slots=True)
class RetainedFlow:
    """A Flow with a retention tag, and the times retention looks at."""

    flow_id: str
    segment_offset: TagValue | None
    flow_offset: TagValue | None
    last_change_ns: int


def offset_ns(value: TagValue | None) -> int | None:
    """A retention tag's offset in nanoseconds; None when unset or not a valid,
    non-negative timestamp."""
    if not isinstance(value, str):
        return None
    try:
        offset = parse_timestamp(value, "offset")
    except InvalidArgument:
        return None
    return offset if offset >= 0 else None


def flow_expired(flow: RetainedFlow, now_ns: int) -> bool:
    """Whether the Flow's own retention has run out at ``now_ns`` (service clock)."""
    offset = offset_ns(flow.flow_offset)
    return offset is not None and flow.last_change_ns + offset < now_ns


def segments_cutoff(flow: RetainedFlow, now_tai_ns: int) -> int | None:
    """The end of the span whose Segments go at ``now_tai_ns`` (TAI), if any."""
    offset = offset_ns(flow.segment_offset)
    return None if offset is None else now_tai_ns - offset
