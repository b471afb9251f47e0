"""Segment messages <-> domain Segments; the listing path builds messages straight from
database rows, since it runs for every Segment of every stream."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from tams.v1 import segments_pb2
from tams_server.convert.errors import item_error
from tams_server.convert.get_urls import GetUrlWriter
from tams_server.domain.objects import ObjectLocation
from tams_server.domain.segments import (
    Deletion,
    ListedSegment,
    Rejection,
    SegmentPost,
    UncontrolledUrl,
)
from tams_server.domain.timerange import format_timerange, parse_timerange, parse_timestamp


def post_to_domain(message: segments_pb2.SegmentPost) -> SegmentPost:
    """A registration request's Segment (unset optional fields as None)."""
    post = SegmentPost(message.object_id, message.timerange)
    for field, value in message.ListFields():  # only the fields the client set
        name = field.name
        if name == "get_urls":
            post.get_urls = tuple([UncontrolledUrl(u.url, u.label) for u in value])
        elif name not in ("object_id", "timerange"):
            setattr(post, name, value)
    return post


def fill_segments(
    target: Any,
    segments: Iterable[ListedSegment],
    *,
    include_object_timerange: bool,
    urls: GetUrlWriter | None = None,
    places: Mapping[str, ObjectLocation] | None = None,
    deletions: Sequence[Deletion | None] = (),
) -> None:
    """Append Segment messages built from listed Segments to a repeated field, with
    the ``get_urls`` that ``urls`` writes from the rows or ``places`` (where the other
    Objects are), and the ``deletions`` of a ``show_deleted`` listing (one for each
    Segment, None for a live one). ``target.add`` builds each message in place: making
    Segments first and copying them in costs twice as much, per Segment of every
    stream."""
    first = len(target)
    add = target.add
    places = places or {}
    segment_urls = urls.for_segments() if urls is not None else None
    for (_, _, timerange, object_id, ts_offset, last_duration, object_timerange, sample_offset,
         sample_count, key_frame_count, init_object_id, storage_id, key, uncontrolled,
         extra_instances) in segments:  # fmt: skip
        segment = add(object_id=object_id, timerange=timerange)
        if ts_offset is not None:
            segment.ts_offset = ts_offset
        if last_duration is not None:
            segment.last_duration = last_duration
        if sample_offset is not None:
            segment.sample_offset = sample_offset
        if sample_count is not None:
            segment.sample_count = sample_count
        if key_frame_count is not None:
            segment.key_frame_count = key_frame_count
        if init_object_id is not None:
            segment.init_object.object_id = init_object_id
        if include_object_timerange:
            segment.object_timerange = object_timerange or object_timerange_of(timerange, ts_offset)
        if urls is None or segment_urls is None:
            continue
        if init_object_id is not None:
            urls.fill(segment.init_object.get_urls, places.get(init_object_id))
        if extra_instances == 0:  # the row says where its Object is, all of it
            if isinstance(uncontrolled, str):
                uncontrolled = orjson.loads(uncontrolled)
            segment_urls(segment, storage_id, key, uncontrolled or ())
        else:
            place = places.get(object_id)
            urls.fill(segment.get_urls, place)
            key = place.storage_key if place is not None else None
        if key is not None:
            segment.storage_path = key
    if deletions:
        _mark_deleted(target[first:], deletions)


def object_timerange_of(timerange: str, ts_offset: str | None) -> str:
    """The Object's own timerange when the client gave none: the Segment's, shifted
    back by ``ts_offset`` (TAMS: segment_ts = object_ts + ts_offset)."""
    tr = parse_timerange(timerange)
    offset = parse_timestamp(ts_offset) if ts_offset else 0
    if not offset or tr.start is None or tr.end is None:
        return format_timerange(tr)
    return format_timerange(type(tr)(tr.start - offset, tr.end - offset))


def failed_segments(
    rejections: Iterable[Rejection], *, index_offset: int = 0
) -> list[segments_pb2.FailedSegment]:
    """The rejections, in request order."""
    return [
        segments_pb2.FailedSegment(
            object_id=r.object_id,
            timerange=r.timerange,
            error=item_error(r.error),
            index=r.index + index_offset,
        )
        for r in sorted(rejections, key=lambda r: r.index)
    ]


def _mark_deleted(added: Sequence[Any], deletions: Sequence[Deletion | None]) -> None:
    """Mark the soft-deleted Segments among those just added (AIP-164)."""
    for segment, deletion in zip(added, deletions, strict=True):
        if deletion is not None:
            segment.deleted.FromNanoseconds(deletion.deleted_ns)
            if deletion.deleted_by is not None:
                segment.deleted_by = deletion.deleted_by
