"""Service-wide settings kept in the database, shared by every replica."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from tams_server.store import schema
from tams_server.store.dialect import insert_ignoring_conflicts
from tams_server.store.engine import Database

PAGE_TOKEN_SECRET = "page_token_secret"
OBJECT_URL_SECRET = "object_url_secret"
SERVICE_NAME = "service_name"
SERVICE_DESCRIPTION = "service_description"


async def get_or_create_secret(database: Database, key: str = PAGE_TOKEN_SECRET) -> bytes:
    """The secret stored under ``key``, made at first use (the first replica wins)."""
    async with database.write() as conn:
        await conn.execute(
            insert_ignoring_conflicts(conn, schema.settings, ["key"]).values(
                key=key, value=secrets.token_hex(32)
            )
        )
        value = await conn.scalar(
            select(schema.settings.c.value).where(schema.settings.c.key == key)
        )
    assert value is not None
    return bytes.fromhex(value)
