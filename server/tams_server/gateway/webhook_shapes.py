"""TAMS webhook JSON (`webhook-post.json`, `webhook-put.json`, `webhook-get.json`) from
and to tams.v1 Webhook messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from tams.v1 import webhooks_pb2
from tams_server.gateway.query import BadRequest
from tams_server.gateway.shapes import JsonObject, tags_from_json, tags_to_json

# JSON arrays that are StringList messages in proto (so that unset differs from empty).
LIST_FIELDS = (
    "flow_ids", "source_ids", "flow_collected_by_ids", "source_collected_by_ids",
    "accept_get_urls", "accept_storage_ids",
)  # fmt: skip
# What the service reports and a client may send back unchanged: ignored on input.
READ_ONLY_FIELDS = frozenset({"error", "created", "created_by"})


def webhook_from_json(data: Mapping[str, Any]) -> webhooks_pb2.Webhook:
    """A Webhook message from a webhook POST or PUT body."""
    body = {key: value for key, value in data.items() if key not in READ_ONLY_FIELDS}
    for name in LIST_FIELDS:
        if name in body:
            if not isinstance(body[name], list):
                raise BadRequest(f"{name} must be an array")
            body[name] = {"values": body[name]}
    if "tags" in body:
        if not isinstance(body["tags"], Mapping):
            raise BadRequest("tags must be an object")
        body["tags"] = tags_from_json(body["tags"])
    return json_format.ParseDict(body, webhooks_pb2.Webhook())


def webhook_to_json(webhook: webhooks_pb2.Webhook) -> JsonObject:
    """TAMS `webhook-get.json` (the API key value is never in the message)."""
    data = json_format.MessageToDict(webhook, preserving_proto_field_name=True)
    for name in LIST_FIELDS:
        if name in data:
            data[name] = data[name].get("values", [])
    if webhook.tags:
        data["tags"] = tags_to_json(webhook.tags)
    return data
