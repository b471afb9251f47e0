"""Webhook messages <-> domain values."""

from __future__ import annotations

from typing import Any

from tams.v1 import common_pb2, webhooks_pb2
from tams_server.convert.common import (
    fill_tags,
    fill_task_error,
    optional,
    set_time,
    tags_to_domain,
)
from tams_server.domain.webhooks import Webhook

_LISTS = (
    "flow_ids", "source_ids", "flow_collected_by_ids", "source_collected_by_ids",
    "accept_get_urls", "accept_storage_ids",
)  # fmt: skip
_SCALARS = ("api_key_name", "presigned", "verbose_storage", "include_object_timerange")


def webhook_to_domain(message: webhooks_pb2.Webhook) -> Webhook:
    """What a client sends; an empty status means ``created`` (the TAMS default)."""
    lists: dict[str, Any] = {name: _values(optional(message, name)) for name in _LISTS}
    scalars: dict[str, Any] = {name: optional(message, name) for name in _SCALARS}
    return Webhook(
        id=message.id,
        url=message.url,
        events=tuple(message.events),
        api_key_value=optional(message, "api_key_value"),
        tags=tags_to_domain(message.tags),
        status=message.status or "created",
        **lists,
        **scalars,
    )


def _values(strings: common_pb2.StringList | None) -> tuple[str, ...] | None:
    return None if strings is None else tuple(strings.values)


def webhook_to_proto(webhook: Webhook) -> webhooks_pb2.Webhook:
    """A Webhook message; it never carries the API key value."""
    message = webhooks_pb2.Webhook(
        id=webhook.id, url=webhook.url, events=webhook.events, status=webhook.status
    )
    for name in _LISTS:
        values = getattr(webhook, name)
        if values is not None:
            getattr(message, name).CopyFrom(common_pb2.StringList(values=values))
    for name in _SCALARS:
        value = getattr(webhook, name)
        if value is not None:
            setattr(message, name, value)
    fill_tags(message.tags, webhook.tags)
    fill_task_error(message.error, webhook.error)
    if webhook.created_by is not None:
        message.created_by = webhook.created_by
    set_time(message.created, webhook.created_ns)
    return message
