"""The clients' webhook calls against the real server: register, read, list with tag
filters (auto-paging), update, delete; async and blocking alike."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from helpers.webhooks import new_webhook, set_stored
from tams.v1 import webhooks_pb2
from tams_client import (
    AsyncTamsClient,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    TamsClient,
    tag_filter,
)


def marked(marker: str, url: str) -> webhooks_pb2.Webhook:
    webhook = new_webhook(url=url)
    webhook.tags["run"].string_value = marker
    return webhook


async def test_async_webhook_calls(grpc_target: str) -> None:
    marker = str(uuid.uuid4())
    async with AsyncTamsClient(grpc_target) as tams:
        made = [
            await tams.create_webhook(marked(marker, f"https://h{i}.example.com/"))
            for i in range(3)
        ]
        assert await tams.get_webhook(made[0].id) == made[0]
        listed = [
            w.id async for w in tams.list_webhooks(tags=[tag_filter("run", [marker])], page_size=2)
        ]
        assert listed == [w.id for w in made]
        changed = webhooks_pb2.Webhook()
        changed.CopyFrom(made[1])
        changed.status = "disabled"
        assert (await tams.update_webhook(changed)).status == "disabled"
        await tams.delete_webhook(made[2].id)
        with pytest.raises(NotFoundError) as missing:
            await tams.get_webhook(made[2].id)
        assert missing.value.reason == "WEBHOOK_NOT_FOUND"
        with pytest.raises(InvalidArgumentError) as forbidden:
            await tams.create_webhook(new_webhook(url="http://192.168.0.1/"))
        assert forbidden.value.reason == "WEBHOOK_URL_FORBIDDEN"


async def test_blocking_webhook_calls(grpc_target: str, database_url: str) -> None:
    marker = str(uuid.uuid4())

    def register() -> webhooks_pb2.Webhook:
        with TamsClient(grpc_target) as tams:
            made = tams.create_webhook(marked(marker, "https://sync.example.com/"))
            assert [w.id for w in tams.list_webhooks(tags=[tag_filter("run", [marker])])] == [
                made.id
            ]
            return made

    made = await asyncio.to_thread(register)
    await set_stored(database_url, made.id, status="error")

    def disable_then_enable() -> str:
        with TamsClient(grpc_target) as tams:
            disabled = webhooks_pb2.Webhook()
            disabled.CopyFrom(made)
            disabled.status = "disabled"
            with pytest.raises(FailedPreconditionError):
                tams.update_webhook(disabled)
            disabled.status = "created"
            status = tams.update_webhook(disabled).status
            tams.delete_webhook(made.id)
            return status

    assert await asyncio.to_thread(disable_then_enable) == "created"
