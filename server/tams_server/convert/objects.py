"""Objects -> messages (TAMS ``object.json``)."""

from __future__ import annotations

from collections.abc import Sequence

from tams.v1 import objects_pb2
from tams_server.convert.get_urls import GetUrlWriter
from tams_server.domain.object_rules import MEDIA
from tams_server.domain.objects import ObjectLocation, ObjectRecord


def object_to_proto(
    record: ObjectRecord,
    flow_ids: Sequence[str],
    urls: GetUrlWriter | None,
    init: ObjectLocation | None,
) -> objects_pb2.Object:
    """An Object message: ``timerange`` only for media Objects (TAMS: MUST for media,
    MUST NOT for init Objects)."""
    message = objects_pb2.Object(id=record.id, referenced_by_flows=flow_ids)
    if record.first_flow_id is not None:
        message.first_referenced_by_flow = record.first_flow_id
    if record.kind == MEDIA and record.timerange is not None:
        message.timerange = record.timerange
    if record.key_frame_count is not None:
        message.key_frame_count = record.key_frame_count
    if urls is not None:
        urls.fill(message.get_urls, record.location)
    if record.init_object_id is not None:
        message.init_object.id = record.init_object_id
        if urls is not None:
            urls.fill(message.init_object.get_urls, init)
    return message
