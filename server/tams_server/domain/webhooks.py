"""Webhooks (TAMS `webhook*.json`): what a registration holds, the rules it must meet,
and the status changes a client may ask for."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from tams_server.domain.errors import FailedPrecondition, InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.models import JsonObject
from tams_server.domain.tags import Tags
from tams_server.domain.webhook_urls import check_webhook_url

EVENT_TYPES = (
    "flows/created",
    "flows/updated",
    "flows/deleted",
    "flows/segments_added",
    "flows/segments_deleted",
    "sources/created",
    "sources/updated",
    "sources/deleted",
)
STATUSES = ("created", "started", "disabled", "error")
CLIENT_STATUSES = ("created", "disabled")
"""What a client may ask for; ``started`` and ``error`` are the delivery worker's."""

ID_FILTERS = ("flow_ids", "source_ids", "flow_collected_by_ids", "source_collected_by_ids")

# An HTTP field name (RFC 9110 token), and the headers a receiver must get from the
# service itself: the API key may not replace them.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection",
     "idempotency-key", "te", "trailer", "upgrade", "expect"}
)  # fmt: skip

IdList = tuple[str, ...]


@dataclass(frozen=True)
class Webhook:
    """A webhook registration. ``None`` list options are unset (no filter), which TAMS
    tells apart from empty ones. ``api_key_value`` is write-only: the store keeps it
    and never hands it back."""

    url: str
    events: tuple[str, ...]
    id: str = ""
    api_key_name: str | None = None
    api_key_value: str | None = None
    flow_ids: IdList | None = None
    source_ids: IdList | None = None
    flow_collected_by_ids: IdList | None = None
    source_collected_by_ids: IdList | None = None
    accept_get_urls: tuple[str, ...] | None = None
    accept_storage_ids: IdList | None = None
    presigned: bool | None = None
    verbose_storage: bool | None = None
    include_object_timerange: bool | None = None
    tags: Tags = field(default_factory=dict)
    status: str = "created"
    error: JsonObject | None = None
    created_ns: int | None = None
    created_by: str | None = None


def validate_webhook(
    webhook: Webhook,
    *,
    allow_private: bool,
    storage_ids: Collection[str],
    path: str = "webhook",
) -> None:
    """Check what a client sends: the URL (``domain.webhook_urls``), known event types
    (at least one), UUIDs in the filters, backends this service has in
    ``accept_storage_ids``, the API key header, tag names and a status it may set."""
    check_webhook_url(webhook.url, f"{path}.url", allow_private=allow_private)
    _check_events(webhook.events, f"{path}.events")
    for name in ID_FILTERS:
        for index, item in enumerate(getattr(webhook, name) or ()):
            check_uuid(item, f"{path}.{name}[{index}]")
    for index, storage_id in enumerate(webhook.accept_storage_ids or ()):
        where = f"{path}.accept_storage_ids[{index}]"
        check_uuid(storage_id, where)
        if storage_id not in storage_ids:
            raise InvalidArgument.for_field(
                where, f"{storage_id} is not a storage backend of this service",
                reason=Reason.UNKNOWN_STORAGE,
            )  # fmt: skip
    _check_api_key(webhook, path)
    if "" in webhook.tags:
        raise InvalidArgument.for_field(f"{path}.tags", "tag names must not be empty")
    if webhook.status not in CLIENT_STATUSES:
        raise InvalidArgument.for_field(
            f"{path}.status",
            f"must be one of {', '.join(CLIENT_STATUSES)}, got {webhook.status!r}",
        )


def _check_events(events: tuple[str, ...], field_path: str) -> None:
    if not events:
        raise InvalidArgument.for_field(
            field_path, "must name at least one event type", reason=Reason.MISSING_FIELD
        )
    for index, event in enumerate(events):
        if event not in EVENT_TYPES:
            raise InvalidArgument.for_field(
                f"{field_path}[{index}]",
                f"{event!r} is not a TAMS event type ({', '.join(EVENT_TYPES)})",
            )


def _check_api_key(webhook: Webhook, path: str) -> None:
    """The header must be one the service can send: a valid name, not one of its own
    headers, a value without line breaks or control characters, and no value without
    a name (it would never be sent)."""
    name, value = webhook.api_key_name, webhook.api_key_value
    if name is not None:
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidArgument.for_field(
                f"{path}.api_key_name", f"{name!r} is not an HTTP header name"
            )
        if name.lower() in _RESERVED_HEADERS:
            raise InvalidArgument.for_field(
                f"{path}.api_key_name", f"{name!r} is a header the service sets itself"
            )
    if value is not None:
        if name is None:
            raise InvalidArgument.for_field(
                f"{path}.api_key_value", "is given without api_key_name, so it would never be sent"
            )
        if not value.isascii() or not all(ch == "\t" or " " <= ch < "\x7f" for ch in value):
            raise InvalidArgument.for_field(
                f"{path}.api_key_value", "must be printable ASCII (an HTTP header value)"
            )


def unique_events(events: tuple[str, ...]) -> tuple[str, ...]:
    """``events`` with repeats dropped, first occurrences kept in order."""
    return tuple(dict.fromkeys(events))


# What a client's status asks, by the stored status: the status that results.
_TRANSITIONS: Mapping[tuple[str, str], str] = {
    ("created", "created"): "created",
    ("started", "created"): "started",
    ("disabled", "created"): "created",
    ("error", "created"): "created",
    ("created", "disabled"): "disabled",
    ("started", "disabled"): "disabled",
    ("disabled", "disabled"): "disabled",
}


def next_status(current: str, requested: str, webhook_id: str) -> str:
    """The status after a client asks for ``requested`` (``created`` or ``disabled``):
    ``created`` re-enables a disabled or failed webhook and keeps a running one
    running; ``disabled`` stops a created or started one. An ``error`` webhook cannot
    be disabled (TAMS: SHOULD be rejected): FAILED_PRECONDITION (REST 400)."""
    result = _TRANSITIONS.get((current, requested))
    if result is None:
        raise FailedPrecondition(
            f"webhook {webhook_id} is {current} and cannot become {requested}; "
            "re-enable it with status created",
            reason=Reason.WEBHOOK_STATUS_CHANGE,
            metadata={"webhookId": webhook_id, "status": current, "requested": requested},
        )
    return result


def in_collections(wanted: IdList | None, collected_by: tuple[str, ...] | None) -> bool:
    """ADR 0026's ``flow_collected_by_ids`` / ``source_collected_by_ids`` on one Flow or
    Source (None: the event has none): unset passes everything; an empty list passes
    only what no collection holds; otherwise one of its collections must be listed."""
    if wanted is None:
        return True
    if collected_by is None:
        return False
    if not wanted:
        return not collected_by
    return not set(wanted).isdisjoint(collected_by)
