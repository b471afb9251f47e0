"""Webhooks for tests: a registration to start from, and the stored row behind one
(its secret and delivery state, which no RPC returns)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from tams.v1 import common_pb2, webhooks_pb2
from tams_server.store.engine import Database
from tams_server.store.schema import webhooks

RECEIVER = "https://receiver.example.com/hook"


def new_webhook(**fields: Any) -> webhooks_pb2.Webhook:
    """A valid registration (flows/created to RECEIVER), tagged ``test`` with a fresh
    value so that a test can list its own, with ``fields`` set."""
    message = webhooks_pb2.Webhook(**{"url": RECEIVER, "events": ["flows/created"], **fields})
    if "tags" not in fields:
        message.tags["test"].string_value = str(uuid.uuid4())
    return message


def ids(*values: str) -> common_pb2.StringList:
    return common_pb2.StringList(values=values)


async def stored(database_url: str, webhook_id: str) -> Any:
    """The webhook's row, every column."""
    database = Database.connect(database_url)
    try:
        async with database.read() as conn:
            return (await conn.execute(select(webhooks).where(webhooks.c.id == webhook_id))).one()
    finally:
        await database.dispose()


async def set_stored(database_url: str, webhook_id: str, **values: Any) -> None:
    """Change the webhook's row as the delivery worker would."""
    database = Database.connect(database_url)
    try:
        async with database.write() as conn:
            await conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(values))
    finally:
        await database.dispose()
