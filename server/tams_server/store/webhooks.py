"""Webhook registrations in the store: the registry's reads and writes, each one
transaction. The delivery state (``next_cursor``, attempts, lease) belongs to the
delivery worker; the registry sets it only where a client's change decides it: a new
webhook starts after the events already committed, and a webhook re-enabled from
``disabled`` starts again from now, while one re-enabled from ``error`` resumes at the
event that failed (nothing is lost) with its attempts reset.

The API key value is written here and never read back: no method returns it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.errors import NotFound, Reason
from tams_server.domain.queries import Page, WebhookQuery
from tams_server.domain.tags import tags_from_json, tags_to_json
from tams_server.domain.webhooks import Webhook, next_status
from tams_server.store.clock import now_ns
from tams_server.store.engine import Database
from tams_server.store.paging import PageTokenCodec, SortSpec, fingerprint, read_page
from tams_server.store.resources import select_row
from tams_server.store.schema import events, webhook_tags, webhooks
from tams_server.store.tags import replace_tag_rows, tag_filter_clauses

# The registration's columns, as the Webhook fields of the same names.
_OPTIONS = (
    "url", "api_key_name", "flow_ids", "source_ids", "flow_collected_by_ids",
    "source_collected_by_ids", "accept_get_urls", "accept_storage_ids", "presigned",
    "verbose_storage", "include_object_timerange",
)  # fmt: skip
_LISTS = frozenset(
    {"flow_ids", "source_ids", "flow_collected_by_ids", "source_collected_by_ids",
     "accept_get_urls", "accept_storage_ids"}
)  # fmt: skip


class WebhookStore:
    """The webhook registry."""

    def __init__(self, database: Database, tokens: PageTokenCodec) -> None:
        self._db = database
        self._tokens = tokens

    async def get(self, webhook_id: str) -> Webhook:
        """One webhook; NOT_FOUND when unknown."""
        async with self._db.read() as conn:
            return await _load(conn, webhook_id)

    async def find(self, query: WebhookQuery, *, page_size: int, page_token: str) -> Page[Webhook]:
        """One page of the webhooks matching ``query``, by url (TAMS order), then id."""
        sort = SortSpec((webhooks.c.url, webhooks.c.id), descending=query.reverse_order)
        where = tag_filter_clauses(webhook_tags, "webhook_id", webhooks.c.id, query.tags)
        async with self._db.read() as conn:
            rows, token = await read_page(
                conn, select(webhooks).where(*where), sort,
                tokens=self._tokens, query_fingerprint=fingerprint("webhooks", query),
                page_size=page_size, page_token=page_token,
            )  # fmt: skip
            return Page([webhook_of_row(row) for row in rows], token, page_size)

    async def create(
        self, webhook: Webhook, *, actor: str | None, groups: tuple[str, ...] | None = None
    ) -> Webhook:
        """Register ``webhook`` (validated) under a new id; it gets the events committed
        from now on, those the caller's ``groups`` may read."""
        webhook_id = str(uuid.uuid4())
        async with self._db.write() as conn:
            await conn.execute(
                insert(webhooks).values(
                    id=webhook_id,
                    **_registration(webhook),
                    api_key_value=webhook.api_key_value,
                    status=webhook.status,
                    created_ns=now_ns(),
                    created_by=actor,
                    owner_groups=None if groups is None else list(groups),
                    next_cursor=await _next_event_cursor(conn),
                )
            )
            await replace_tag_rows(conn, webhook_tags, "webhook_id", webhook_id, webhook.tags)
            return await _load(conn, webhook_id)

    async def update(
        self, webhook_id: str, webhook: Webhook, *, groups: tuple[str, ...] | None = None
    ) -> Webhook:
        """Replace the registration of ``webhook_id`` with ``webhook`` (validated), its
        status changed as ``domain.webhooks.next_status`` says. Without an API key
        value the stored one stays (while the header is named). The writer's
        ``groups`` become the webhook's: it never gets more than its last writer may
        read, so redirecting someone's webhook gains nothing."""
        async with self._db.write() as conn:
            row = await select_row(conn, webhooks, webhook_id, for_update=True)
            if row is None:
                raise webhook_not_found(webhook_id)
            status = next_status(row.status, webhook.status, webhook_id)
            values: dict[str, Any] = {
                **_registration(webhook), "status": status,
                "owner_groups": None if groups is None else list(groups),
            }  # fmt: skip
            if webhook.api_key_name is None:
                values["api_key_value"] = None
            elif webhook.api_key_value is not None:
                values["api_key_value"] = webhook.api_key_value
            if row.status in ("disabled", "error") and status == "created":
                values.update(attempts=0, next_attempt_ns=None, error=None, last_failure=None)
                if row.status == "disabled":
                    values["next_cursor"] = await _next_event_cursor(conn)
            await conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(values))
            await replace_tag_rows(conn, webhook_tags, "webhook_id", webhook_id, webhook.tags)
            return await _load(conn, webhook_id)

    async def delete(self, webhook_id: str) -> None:
        """Remove a webhook (its tags go with it); NOT_FOUND when unknown."""
        async with self._db.write() as conn:
            result = await conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
            if result.rowcount == 0:
                raise webhook_not_found(webhook_id)


def webhook_not_found(webhook_id: str) -> NotFound:
    """The NOT_FOUND error for an unknown webhook."""
    return NotFound(
        f"webhook {webhook_id} not found",
        reason=Reason.WEBHOOK_NOT_FOUND,
        metadata={"webhookId": webhook_id},
    )


async def _next_event_cursor(conn: AsyncConnection) -> int:
    """The cursor the next committed event will have at the least: past every event
    in the outbox now."""
    return int(await conn.scalar(select(func.coalesce(func.max(events.c.cursor), 0))) or 0) + 1


def _registration(webhook: Webhook) -> dict[str, Any]:
    """The columns a client sets (the API key value aside)."""
    values: dict[str, Any] = {}
    for name in _OPTIONS:
        value = getattr(webhook, name)
        values[name] = list(value) if name in _LISTS and value is not None else value
    values["events"] = list(webhook.events)
    values["tags"] = tags_to_json(webhook.tags)
    return values


async def _load(conn: AsyncConnection, webhook_id: str) -> Webhook:
    row = await select_row(conn, webhooks, webhook_id)
    if row is None:
        raise webhook_not_found(webhook_id)
    return webhook_of_row(row)


def webhook_of_row(row: Row[Any]) -> Webhook:
    """The webhook of a row, without its API key value."""
    options: dict[str, Any] = {
        name: tuple(getattr(row, name)) if name in _LISTS and getattr(row, name) is not None
        else getattr(row, name)
        for name in _OPTIONS
    }  # fmt: skip
    return Webhook(
        id=row.id,
        events=tuple(row.events),
        tags=tags_from_json(row.tags),
        status=row.status,
        error=row.error,
        created_ns=row.created_ns,
        created_by=row.created_by,
        **options,
    )
