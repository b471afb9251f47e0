"""Webhook delivery state: which replica delivers to which webhook (a lease), how far
each webhook has got in the outbox (``next_cursor``), and its failures.

A worker claims due webhooks with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so replicas never claim the same one); each step it records checks that it still
holds the lease and that the webhook still wants events, so a replica that lost its
lease (it stalled, or was killed and another took over) or a webhook disabled
meanwhile stops at once. Delivery is at least once: a replica killed after a receiver
accepted an event but before recording it leaves that event to be sent again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.webhooks import Webhook
from tams_server.store import flow_collections as collections
from tams_server.store.clock import now_ns
from tams_server.store.engine import Database
from tams_server.store.schema import events, webhooks
from tams_server.store.webhooks import webhook_of_row

ACTIVE = ("created", "started")


@dataclass(frozen=True)
class Claimed:
    """A webhook a worker holds the lease of, with what it needs to deliver: the API
    key value too, which nothing else reads back."""

    webhook: Webhook
    api_key_value: str | None
    next_cursor: int
    attempts: int
    owner_groups: tuple[str, ...] | None = None
    """The groups whose read rights bound what the webhook gets (None: no bound)."""


class DeliveryStore:
    """The delivery worker's reads and writes, each one short transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(self, owner: str, *, limit: int, lease_ns: int) -> list[Claimed]:
        """Take the lease of up to ``limit`` active webhooks that have events to
        deliver and no pause to wait out, the longest waiting first; they are
        ``started`` from then on."""
        now = now_ns()
        c = webhooks.c
        # Most wake-ups (one per commit) find nothing due: find out in one statement
        # outside any transaction, and take the write transaction (SQLite's one
        # writer) only to claim.
        async with self._db.read(snapshot=False) as conn:
            if not (await conn.execute(_due(now).limit(1))).first():
                return []
        async with self._db.write() as conn:
            due = _due(now).limit(limit).with_for_update(skip_locked=True)
            rows = (
                await conn.execute(
                    update(webhooks)
                    .where(c.id.in_(due.scalar_subquery()))
                    .values(lease_owner=owner, lease_until_ns=now + lease_ns, status="started")
                    .returning(*webhooks.c)
                )
            ).all()
        return [
            Claimed(
                webhook_of_row(row), row.api_key_value, row.next_cursor, row.attempts,
                None if row.owner_groups is None else tuple(row.owner_groups),
            )
            for row in rows
        ]  # fmt: skip

    async def progress(
        self, webhook_id: str, owner: str, *, next_cursor: int, delivered: bool, lease_ns: int
    ) -> bool:
        """Record that every event before ``next_cursor`` is done (delivered, or not
        for this webhook), restart the attempts when an event was ``delivered``, and
        renew the lease; False when the lease or the webhook's wish for events is gone:
        stop delivering to it."""
        values: dict[str, Any] = {
            "next_cursor": next_cursor, "lease_until_ns": now_ns() + lease_ns,
        }  # fmt: skip
        if delivered:
            values.update(attempts=0, next_attempt_ns=None, last_failure=None)
        async with self._db.write() as conn:
            done = await conn.execute(
                update(webhooks).where(*_held(webhook_id, owner)).values(**values)
            )
            return done.rowcount == 1

    async def failed(
        self,
        webhook_id: str,
        owner: str,
        *,
        next_cursor: int,
        attempts: int,
        failure: dict[str, Any],
        retry_at_ns: int | None,
    ) -> None:
        """Record how far delivery got and the failed attempt (``attempts`` in a row
        at ``next_cursor``), and give up the lease: try again at ``retry_at_ns``, or
        (None) put the webhook in ``error`` with the failure."""
        values: dict[str, Any] = {
            "next_cursor": next_cursor, "attempts": attempts, "last_failure": failure,
            "next_attempt_ns": retry_at_ns, "lease_owner": None, "lease_until_ns": None,
        }  # fmt: skip
        if retry_at_ns is None:
            values.update(status="error", error=failure)
        async with self._db.write() as conn:
            await conn.execute(update(webhooks).where(*_held(webhook_id, owner)).values(**values))

    async def release(self, webhook_id: str, owner: str) -> None:
        """Give up the lease (nothing more to deliver for now)."""
        async with self._db.write() as conn:
            await conn.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id, webhooks.c.lease_owner == owner)
                .values(lease_owner=None, lease_until_ns=None)
            )

    async def collected_by(
        self, flow_ids: Collection[str], source_ids: Collection[str]
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """The collections each Flow and each Source is in now, for the webhooks'
        ``flow_collected_by_ids`` and ``source_collected_by_ids`` filters."""
        async with self._db.read() as conn:
            flows = await _flows_collected_by(conn, flow_ids)
            sources = await _sources_collected_by(conn, source_ids)
        return flows, sources


def _due(now: int) -> Select[tuple[str]]:
    """The webhooks with events to deliver, no pause to wait out and no live lease,
    the longest waiting first."""
    c = webhooks.c
    newest = select(func.max(events.c.cursor)).scalar_subquery()
    return (
        select(c.id)
        .where(
            c.status.in_(ACTIVE),
            c.next_cursor <= newest,
            (c.next_attempt_ns.is_(None)) | (c.next_attempt_ns <= now),
            (c.lease_until_ns.is_(None)) | (c.lease_until_ns < now),
        )
        .order_by(c.next_attempt_ns.nulls_first(), c.id)
    )


def _held(webhook_id: str, owner: str) -> list[ColumnElement[bool]]:
    """The webhook, while ``owner`` holds its lease and it is active."""
    c = webhooks.c
    return [c.id == webhook_id, c.lease_owner == owner, c.status.in_(ACTIVE)]


async def _flows_collected_by(
    conn: AsyncConnection, flow_ids: Collection[str]
) -> dict[str, tuple[str, ...]]:
    return await collections.flows_collected_by(conn, flow_ids, None) if flow_ids else {}


async def _sources_collected_by(
    conn: AsyncConnection, source_ids: Collection[str]
) -> dict[str, tuple[str, ...]]:
    return await collections.sources_collected_by(conn, source_ids, None) if source_ids else {}
