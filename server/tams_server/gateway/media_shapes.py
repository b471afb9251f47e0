"""TAMS JSON of Segments, storage allocations, Objects, flow delete requests, the
service and storage backends, from and to tams.v1 messages."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from tams.v1 import (
    flow_delete_requests_pb2,
    objects_pb2,
    segments_pb2,
    service_info_pb2,
    storage_pb2,
)
from tams_server.gateway.body import parse_object
from tams_server.gateway.shapes import JsonObject, tags_to_json


def _dict(message: Message) -> JsonObject:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


# Segments and their URLs are converted field by field (ListFields: the set fields
# only, scalars as they are): json_format.MessageToDict took 5x longer, and a listing
# converts every Segment of every page.


def get_url_to_json(url: objects_pb2.GetUrl) -> JsonObject:
    """One ``get_urls`` item."""
    return {
        field.name: tags_to_json(value) if field.name == "tags" else value
        for field, value in url.ListFields()
    }


def segment_to_json(segment: segments_pb2.Segment) -> JsonObject:
    """TAMS ``flow-segment.json``."""
    data: JsonObject = {}
    for field, value in segment.ListFields():
        name = field.name
        if name == "get_urls":
            data[name] = [get_url_to_json(u) for u in value]
        elif name == "init_object":
            init: JsonObject = {"object_id": value.object_id}
            if value.get_urls:
                init["get_urls"] = [get_url_to_json(u) for u in value.get_urls]
            data[name] = init
        elif name == "deleted":
            data[name] = value.ToJsonString()
        else:
            data[name] = value
    return data


def segment_post_from_json(data: Any, where: str) -> segments_pb2.SegmentPost:
    """A SegmentPost from TAMS ``flow-segment-post.json``; 400 when it is not one."""
    return parse_object(
        data, lambda body: json_format.ParseDict(dict(body), segments_pb2.SegmentPost()), where
    )


def allocation_request_from_json(
    data: Any, flow_id: str, where: str = "the body"
) -> storage_pb2.AllocateStorageRequest:
    """An AllocateStorage request from TAMS ``flow-storage-post.json``."""
    request = parse_object(
        data,
        lambda body: json_format.ParseDict(dict(body), storage_pb2.AllocateStorageRequest()),
        where,
    )
    request.flow_id = flow_id
    return request


def allocated_to_json(item: storage_pb2.AllocatedObject) -> JsonObject:
    """One ``media_objects`` item of ``flow-storage.json``."""
    put_url: JsonObject = {"url": item.put_url.url, "content-type": item.put_url.content_type}
    if item.put_url.headers:
        put_url["headers"] = dict(item.put_url.headers)
    data: JsonObject = {"object_id": item.object_id, "put_url": put_url}
    if item.HasField("presigned"):
        data["presigned"] = item.presigned
    return data


def object_to_json(obj: objects_pb2.Object) -> JsonObject:
    """TAMS ``object.json``."""
    data = _dict(obj)
    data["referenced_by_flows"] = list(obj.referenced_by_flows)
    if obj.get_urls:
        data["get_urls"] = [get_url_to_json(u) for u in obj.get_urls]
    if obj.HasField("init_object"):
        init: JsonObject = {"id": obj.init_object.id}
        if obj.init_object.get_urls:
            init["get_urls"] = [get_url_to_json(u) for u in obj.init_object.get_urls]
        data["init_object"] = init
    return data


_STATUS_PREFIX = "FLOW_DELETE_REQUEST_STATUS_"


def delete_request_to_json(request: flow_delete_requests_pb2.FlowDeleteRequest) -> JsonObject:
    """TAMS ``deletion-request.json``."""
    data = _dict(request)
    status = flow_delete_requests_pb2.FlowDeleteRequestStatus.Name(request.status)
    data["status"] = status.removeprefix(_STATUS_PREFIX).lower()
    data["delete_flow"] = request.delete_flow
    return data


def service_to_json(service: service_info_pb2.ServiceInfo) -> JsonObject:
    """TAMS ``service.json``."""
    return _dict(service)


def backend_to_json(backend: storage_pb2.StorageBackend) -> JsonObject:
    """TAMS ``storage-backend.json``."""
    data = _dict(backend)
    data["default_storage"] = backend.default_storage
    if backend.tags:
        data["tags"] = tags_to_json(backend.tags)
    return data
