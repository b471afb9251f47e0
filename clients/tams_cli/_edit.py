"""``tams clip`` and ``tams concat``: new Flows made by reference (the TAMS edit
model). Nothing is downloaded or uploaded: the new Flow's Segments name the
original Objects, each shifted onto the new timeline by its ``ts_offset``.

The new timeline: the first range starts at ``start`` (by default where that range
starts in its Flow, so a clip keeps its times), and each further range follows the
one before it, back to back. A Segment partly inside its range keeps its Object,
with a narrower timerange: the part of the Object it uses is ``timerange -
ts_offset`` (TAMS: an Object's own ``object_timerange`` is fixed by its first
Segment and may not be changed by a reuse, so the narrowing is the Segment's).

A multi-essence Flow is edited member by member (each member's Segments cut by the
same range and shifted by the same amount) and a new multi-essence Flow collects
the new members under the same roles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf import field_mask_pb2

from tams.v1 import common_pb2, flows_pb2, segments_pb2
from tams_cli._flows import MULTI_FORMAT
from tams_cli._timing import TimeRange, format_timestamp, parse_timerange, parse_timestamp
from tams_client import AsyncTamsClient, NotFoundError

# What a new Flow takes from the one it is made from: its description and technical
# format. Ids, members, times, status, read_only and who did what are its own.
_COPIED = field_mask_pb2.FieldMask(
    paths=[
        "format", "description", "tags", "codec", "container", "container_mapping",
        "max_bit_rate", "avg_bit_rate", "segment_duration", "profile_id",
        "video", "audio", "image", "data", "multi",
    ]
)  # fmt: skip


class NothingToEditError(Exception):
    """A range holds no Segment of its Flow."""


class IncompatibleFlowsError(Exception):
    """The Flows to join differ in format, codec, container or members."""


class TargetExistsError(Exception):
    """The Flow id given for the result is taken."""


class EditRefusedError(Exception):
    """The store refused a Segment of the new Flow (the new Flows were removed)."""


@dataclass(frozen=True)
class Piece:
    """One range of one Flow to put on the new timeline (None: all of it)."""

    flow_id: str
    timerange: TimeRange


@dataclass(frozen=True)
class EditReport:
    """The new Flow, its member Flows (a multi-essence one's), its Segments and where
    it lies."""

    flow_id: str
    members: list[str]
    segments: int
    timerange: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.flow_id,
            "members": self.members,
            "segments": self.segments,
            "timerange": self.timerange,
        }


def parse_piece(text: str, timerange: str | None = None) -> Piece:
    """``FLOW`` or ``FLOW:RANGE`` (the id has no colon; the range does); ValueError
    for a malformed or empty range."""
    flow_id, colon, given = text.partition(":")
    if not flow_id:
        raise ValueError(f"{text!r} names no flow (FLOW or FLOW:RANGE)")
    if colon and timerange is not None:
        raise ValueError("give the range once: FLOW:RANGE or --timerange")
    text_range = given if colon else timerange
    span = parse_timerange(text_range) if text_range else TimeRange(None, None)
    if span.empty:
        raise ValueError(f"the range {text_range} is empty")
    return Piece(flow_id, span)


@dataclass(frozen=True)
class _Source:
    """A Piece read from the store: its Flow, the Flows whose Segments are edited
    (the members of a multi-essence Flow, else the Flow itself), their Segments
    inside the range, and the range bounded by those Segments."""

    flow: flows_pb2.Flow
    members: list[flows_pb2.Flow]
    segments: list[list[segments_pb2.Segment]]
    span: TimeRange


async def edit(
    client: AsyncTamsClient,
    pieces: Sequence[Piece],
    *,
    to: str | None = None,
    label: str | None = None,
    start: int | None = None,
) -> EditReport:
    """Make a Flow (id ``to``, or a new one) playing ``pieces`` back to back from
    ``start``; see the module docstring."""
    target = to or str(uuid.uuid4())
    await _check_free(client, target)
    sources = [await _read(client, piece) for piece in pieces]
    first = sources[0]
    for other in sources[1:]:
        _check_compatible(first, other)
    position = first.span.bounds()[0] if start is None else start
    origin = position
    new_members = [_new_flow(member, label) for member in first.members]
    multi = first.flow.format == MULTI_FORMAT
    if multi:
        flows = [*new_members, _new_multi(first.flow, new_members, target, label)]
    else:
        new_members[0].id = target
        flows = new_members
    posts: list[list[segments_pb2.SegmentPost]] = [[] for _ in new_members]
    for source in sources:
        low, high = source.span.bounds()
        shift = position - low
        for index, segments in enumerate(source.segments):
            posts[index].extend(_post(segment, source.span, shift) for segment in segments)
        position += high - low
    await client.batch_create_flows(flows)
    try:
        for member, member_posts in zip(new_members, posts, strict=True):
            await _register(client, member.id, member_posts)
    except BaseException:
        for flow in reversed(flows):  # the multi-essence Flow first
            await client.delete_flow(flow.id)
        raise
    return EditReport(
        flow_id=target,
        members=[member.id for member in new_members] if multi else [],
        segments=sum(map(len, posts)),
        timerange=str(TimeRange(origin, position)),
    )


async def _check_free(client: AsyncTamsClient, flow_id: str) -> None:
    try:
        await client.get_flow(flow_id)
    except NotFoundError:
        return
    raise TargetExistsError(f"flow {flow_id} exists already: give a new id to --to")


async def _read(client: AsyncTamsClient, piece: Piece) -> _Source:
    flow = await client.get_flow(piece.flow_id)
    if flow.format == MULTI_FORMAT:
        members = [await client.get_flow(item.id) for item in flow.flow_collection]
    else:
        members = [flow]
    open_ended = piece.timerange == TimeRange(None, None)
    asked = None if open_ended else str(piece.timerange)
    segments: list[list[segments_pb2.Segment]] = []
    for member in members:
        listed = [s async for s in client.list_segments(member.id, timerange=asked)]
        inside = parse_timerange
        segments.append(
            [s for s in listed if not inside(s.timerange).intersection(piece.timerange).empty]
        )
    ranges = [parse_timerange(s.timerange) for found in segments for s in found]
    if not ranges:
        raise NothingToEditError(f"flow {piece.flow_id} has no segments in {piece.timerange}")
    held = TimeRange(min(r.start or 0 for r in ranges), max(r.end or 0 for r in ranges))
    return _Source(flow, members, segments, held.intersection(piece.timerange))


def _shape(source: _Source) -> list[tuple[object, ...]]:
    """What Flows joined into one must share: per member, the format, codec and
    container, and the picture size or the sample rate and channels."""
    return [
        (m.format, m.codec, m.container, m.video.frame_width, m.video.frame_height,
         m.audio.sample_rate, m.audio.channels)
        for m in source.members
    ]  # fmt: skip


def _check_compatible(first: _Source, other: _Source) -> None:
    if first.flow.format != other.flow.format or _shape(first) != _shape(other):
        raise IncompatibleFlowsError(
            f"flow {other.flow.id} cannot follow flow {first.flow.id}: their formats, codecs, "
            "containers, picture sizes, sample rates or members differ"
        )


def _new_flow(original: flows_pb2.Flow, label: str | None) -> flows_pb2.Flow:
    """A copy of ``original``'s description under new Flow and Source ids: an edit is
    new content (its own Source)."""
    flow = flows_pb2.Flow()
    _COPIED.MergeMessage(original, flow)
    flow.id = str(uuid.uuid4())
    flow.source_id = str(uuid.uuid4())
    flow.label = label or f"edit of {original.label or original.id}"
    return flow


def _new_multi(
    original: flows_pb2.Flow, members: list[flows_pb2.Flow], flow_id: str, label: str | None
) -> flows_pb2.Flow:
    flow = _new_flow(original, label)
    flow.id = flow_id
    flow.flow_collection.extend(
        common_pb2.CollectionItem(id=member.id, role=item.role)
        for member, item in zip(members, original.flow_collection, strict=True)
    )
    return flow


def _post(segment: segments_pb2.Segment, span: TimeRange, shift: int) -> segments_pb2.SegmentPost:
    """``segment`` cut to ``span`` and moved by ``shift``, on the same Object."""
    whole = parse_timerange(segment.timerange)
    kept = whole.intersection(span)
    low, high = kept.bounds()
    offset = parse_timestamp(segment.ts_offset) if segment.ts_offset else 0
    post = segments_pb2.SegmentPost(
        object_id=segment.object_id,
        timerange=str(TimeRange(low + shift, high + shift)),
        ts_offset=format_timestamp(offset + shift),
    )
    if segment.HasField("key_frame_count"):
        post.key_frame_count = segment.key_frame_count
    if kept == whole and segment.HasField("last_duration"):
        post.last_duration = segment.last_duration
    return post


async def _register(
    client: AsyncTamsClient, flow_id: str, posts: list[segments_pb2.SegmentPost]
) -> None:
    for first in range(0, len(posts), 500):
        reply = await client.register_segments(flow_id, posts[first : first + 500])
        if reply.failed_segments:
            failed = reply.failed_segments[0]
            raise EditRefusedError(
                f"the store refused segment {failed.timerange} of object {failed.object_id}: "
                f"{failed.error.message} ({failed.error.reason})"
            )
