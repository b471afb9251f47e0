"""WebhookService over real gRPC, on both engines: the registry (create, get, list by
url with tag filters and paging, update with the spec's status changes, delete), its
secret never returned, unset list options told apart from empty ones, bad input
refused with nothing changed, and the delivery state a new webhook starts with."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import delete, func, insert, select

from helpers import auth
from helpers.auth import bearer, hs256
from helpers.servers import own_server
from helpers.status import failure
from helpers.webhooks import RECEIVER, ids, new_webhook, set_stored, stored
from tams.v1 import common_pb2, webhooks_pb2, webhooks_pb2_grpc
from tams_server.store.engine import Database
from tams_server.store.schema import events

Stub = webhooks_pb2_grpc.WebhookServiceStub


@pytest.fixture(scope="module")
def stub(channel: grpc.aio.Channel) -> Stub:
    return webhooks_pb2_grpc.WebhookServiceStub(channel)


async def create(stub: Stub, webhook: webhooks_pb2.Webhook) -> webhooks_pb2.Webhook:
    response = await stub.CreateWebhook(webhooks_pb2.CreateWebhookRequest(webhook=webhook))
    return response.webhook


async def update(stub: Stub, webhook: webhooks_pb2.Webhook) -> webhooks_pb2.Webhook:
    response = await stub.UpdateWebhook(webhooks_pb2.UpdateWebhookRequest(webhook=webhook))
    return response.webhook


async def get(stub: Stub, webhook_id: str) -> webhooks_pb2.Webhook:
    response = await stub.GetWebhook(webhooks_pb2.GetWebhookRequest(webhook_id=webhook_id))
    return response.webhook


async def test_a_webhook_is_registered_and_read_back(stub: Stub) -> None:
    given = new_webhook(
        events=["flows/segments_added", "sources/created", "flows/segments_added"],
        api_key_name="X-Api-Key", api_key_value="the-secret",
        flow_ids=ids(str(uuid.uuid4())), presigned=True, verbose_storage=False,
    )  # fmt: skip
    made = await create(stub, given)
    uuid.UUID(made.id)
    assert made.url == RECEIVER
    assert list(made.events) == ["flows/segments_added", "sources/created"]
    assert made.status == "created"
    assert made.api_key_name == "X-Api-Key"
    assert not made.HasField("api_key_value")
    assert list(made.flow_ids.values) == list(given.flow_ids.values)
    assert made.presigned
    assert made.HasField("verbose_storage")
    assert not made.verbose_storage
    assert not made.HasField("include_object_timerange")
    assert made.HasField("created")
    assert not made.HasField("created_by")
    assert await get(stub, made.id) == made


async def test_unset_list_options_differ_from_empty_ones(stub: Stub) -> None:
    made = await create(stub, new_webhook(flow_collected_by_ids=ids(), accept_get_urls=ids()))
    read = await get(stub, made.id)
    assert read.HasField("flow_collected_by_ids")
    assert not read.flow_collected_by_ids.values
    assert read.HasField("accept_get_urls")
    assert not read.accept_get_urls.values
    for unset in ("flow_ids", "source_ids", "source_collected_by_ids", "accept_storage_ids"):
        assert not read.HasField(unset), unset  # type: ignore[arg-type]


async def test_the_secret_is_kept_and_never_returned(stub: Stub, database_url: str) -> None:
    made = await create(stub, new_webhook(api_key_name="X-Key", api_key_value="one"))
    assert (await stored(database_url, made.id)).api_key_value == "one"
    listed = await stub.ListWebhooks(
        webhooks_pb2.ListWebhooksRequest(
            tags=[common_pb2.TagFilter(name="test", values=[made.tags["test"].string_value])]
        )
    )
    assert [w.HasField("api_key_value") for w in listed.webhooks] == [False]
    # An update without a value keeps it; with one, replaces it; without the header, drops it.
    kept = await update(stub, webhooks_pb2.Webhook(
        id=made.id, url=made.url, events=made.events, api_key_name="X-Key", status="created"
    ))  # fmt: skip
    assert not kept.HasField("api_key_value")
    assert (await stored(database_url, made.id)).api_key_value == "one"
    await update(stub, webhooks_pb2.Webhook(
        id=made.id, url=made.url, events=made.events, api_key_name="X-Key",
        api_key_value="two", status="created",
    ))  # fmt: skip
    assert (await stored(database_url, made.id)).api_key_value == "two"
    dropped = await update(stub, webhooks_pb2.Webhook(
        id=made.id, url=made.url, events=made.events, status="created"
    ))  # fmt: skip
    assert not dropped.HasField("api_key_name")
    assert (await stored(database_url, made.id)).api_key_value is None


async def test_an_update_replaces_the_configuration(stub: Stub) -> None:
    made = await create(stub, new_webhook(flow_ids=ids(str(uuid.uuid4())), presigned=True))
    changed = new_webhook(
        id=made.id, url="https://other.example.com/x", events=["sources/deleted"],
        status="disabled", source_ids=ids(str(uuid.uuid4())),
    )  # fmt: skip
    result = await update(stub, changed)
    assert result.url == "https://other.example.com/x"
    assert list(result.events) == ["sources/deleted"]
    assert result.status == "disabled"
    assert not result.HasField("flow_ids")
    assert not result.HasField("presigned")
    assert result.tags == changed.tags
    assert result.created == made.created
    assert await get(stub, made.id) == result


async def test_a_new_webhook_starts_after_the_committed_events(
    stub: Stub, database_url: str
) -> None:
    database = Database.connect(database_url)
    try:
        async with database.write() as conn:
            result = await conn.execute(
                insert(events).values(event_type="flows/created", created_ns=0, payload=b"")
            )
            cursor = result.inserted_primary_key[0]
        async with database.read() as conn:
            head = await conn.scalar(select(func.max(events.c.cursor)))
        made = await create(stub, new_webhook())
    finally:
        async with database.write() as conn:
            await conn.execute(delete(events).where(events.c.cursor == cursor))
        await database.dispose()
    row = await stored(database_url, made.id)
    assert row.next_cursor == head + 1
    assert (row.attempts, row.next_attempt_ns, row.lease_owner, row.last_failure) == (
        0, None, None, None,
    )  # fmt: skip


async def test_status_changes_follow_the_spec(stub: Stub, database_url: str) -> None:
    made = await create(stub, new_webhook(status="disabled"))
    assert made.status == "disabled"
    again = webhooks_pb2.Webhook(id=made.id, url=made.url, events=made.events)
    again.status = "created"
    assert (await update(stub, again)).status == "created"
    await set_stored(database_url, made.id, status="started")
    assert (await update(stub, again)).status == "started"  # asking created keeps it running
    # A failed webhook cannot be disabled, only re-enabled (which clears its failure).
    error = {"type": "DELIVERY_FAILED", "summary": "receiver answered 500", "time_ns": 10**18}
    await set_stored(
        database_url, made.id, status="error", error=error, attempts=7,
        next_attempt_ns=5, next_cursor=42, last_failure={"status": 500},
    )  # fmt: skip
    failed = await get(stub, made.id)
    assert failed.status == "error"
    assert failed.error.summary == "receiver answered 500"
    assert failed.error.time.ToNanoseconds() == 10**18
    disable = webhooks_pb2.Webhook(id=made.id, url=made.url, events=made.events, status="disabled")
    result = await failure(update(stub, disable))
    assert result.code == grpc.StatusCode.FAILED_PRECONDITION
    assert result.reason == "WEBHOOK_STATUS_CHANGE"
    assert (await get(stub, made.id)).status == "error"
    enabled = await update(stub, again)
    assert enabled.status == "created"
    assert not enabled.HasField("error")
    row = await stored(database_url, made.id)
    assert (row.attempts, row.next_attempt_ns, row.last_failure, row.next_cursor) == (
        0,
        None,
        None,
        42,
    )  # fmt: skip  (resumes at the event that failed)
    # Re-enabled from disabled, it starts again from now.
    await update(stub, disable)
    await update(stub, again)
    assert (await stored(database_url, made.id)).next_cursor != 42


async def test_listing_is_by_url_with_tag_filters_and_paging(stub: Stub) -> None:
    team = str(uuid.uuid4())
    urls = [f"https://{name}.example.com/hook" for name in ("c", "a", "b")]
    for index, url in enumerate(urls):
        webhook = new_webhook(url=url)
        webhook.tags["team"].string_value = team
        webhook.tags["shift"].list_value.values.extend(["early"] if index else ["late", "x"])
        await create(stub, webhook)

    async def listed(*filters: common_pb2.TagFilter, size: int = 0, reverse: bool = False
                     ) -> list[str]:  # fmt: skip
        found, token = [], ""
        while True:
            page = await stub.ListWebhooks(webhooks_pb2.ListWebhooksRequest(
                tags=[common_pb2.TagFilter(name="team", values=[team]), *filters],
                page_size=size, page_token=token, reverse_order=reverse,
            ))  # fmt: skip
            assert len(page.webhooks) <= (size or 100)
            found += [webhook.url for webhook in page.webhooks]
            token = page.next_page_token
            if not token:
                return found

    assert await listed() == sorted(urls)
    assert await listed(size=1) == sorted(urls)
    assert await listed(size=2, reverse=True) == sorted(urls, reverse=True)
    late = common_pb2.TagFilter(name="shift", values=["late"])
    assert await listed(late) == [urls[0]]
    assert await listed(common_pb2.TagFilter(name="shift", exists=False)) == []
    assert await listed(common_pb2.TagFilter(name="nothing", exists=False)) == sorted(urls)


async def test_delete_removes_it(stub: Stub) -> None:
    made = await create(stub, new_webhook())
    await stub.DeleteWebhook(webhooks_pb2.DeleteWebhookRequest(webhook_id=made.id))
    for call in (
        get(stub, made.id),
        stub.DeleteWebhook(webhooks_pb2.DeleteWebhookRequest(webhook_id=made.id)),
        update(stub, webhooks_pb2.Webhook(
            id=made.id, url=made.url, events=made.events, status="created"
        )),
    ):  # fmt: skip
        result = await failure(call)
        assert (result.code, result.reason) == (grpc.StatusCode.NOT_FOUND, "WEBHOOK_NOT_FOUND")
        assert result.metadata == {"webhookId": made.id}


@pytest.mark.parametrize(
    ("webhook", "field", "reason"),
    [
        (new_webhook(url="ftp://receiver.example.com/"), "webhook.url", "INVALID_ARGUMENT"),
        (new_webhook(url="http://127.0.0.1:9000/"), "webhook.url", "WEBHOOK_URL_FORBIDDEN"),
        (new_webhook(url="http://localhost/"), "webhook.url", "WEBHOOK_URL_FORBIDDEN"),
        (new_webhook(events=[]), "webhook.events", "MISSING_FIELD"),
        (new_webhook(events=["flows/moved"]), "webhook.events[0]", "INVALID_ARGUMENT"),
        (new_webhook(source_ids=ids("x")), "webhook.source_ids[0]", "INVALID_ID"),
        (new_webhook(accept_storage_ids=ids(str(uuid.uuid4()))),
         "webhook.accept_storage_ids[0]", "UNKNOWN_STORAGE"),
        (new_webhook(status="started"), "webhook.status", "INVALID_ARGUMENT"),
        (new_webhook(api_key_value="no-name"), "webhook.api_key_value", "INVALID_ARGUMENT"),
    ],
)  # fmt: skip
async def test_bad_registrations_are_refused(
    stub: Stub, webhook: webhooks_pb2.Webhook, field: str, reason: str
) -> None:
    result = await failure(create(stub, webhook))
    assert (result.code, result.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert result.fields[0] == field
    tag = webhooks_pb2.ListWebhooksRequest(tags=[common_pb2.TagFilter(
        name="test", values=[webhook.tags["test"].string_value]
    )])  # fmt: skip
    assert not (await stub.ListWebhooks(tag)).webhooks


async def test_a_bad_update_changes_nothing(stub: Stub) -> None:
    made = await create(stub, new_webhook())
    bad = new_webhook(id=made.id, url="http://10.0.0.1/", status="disabled")
    assert (await failure(update(stub, bad))).reason == "WEBHOOK_URL_FORBIDDEN"
    no_status = new_webhook(id=made.id)
    result = await failure(update(stub, no_status))
    assert (result.reason, result.fields[0]) == ("MISSING_FIELD", "webhook.status")
    assert await get(stub, made.id) == made


@pytest.mark.parametrize("bad_id", ["", "not-a-uuid", str(uuid.uuid4()).upper()])
async def test_bad_ids_are_invalid(stub: Stub, bad_id: str) -> None:
    for call in (
        get(stub, bad_id),
        stub.DeleteWebhook(webhooks_pb2.DeleteWebhookRequest(webhook_id=bad_id)),
        update(stub, new_webhook(id=bad_id, status="created")),
    ):
        assert (await failure(call)).code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
async def private_ok(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> AsyncIterator[Stub]:
    async with own_server(
        tmp_path_factory.mktemp("private"), database_url,
        run_workers=False, webhook_allow_private=True,
    ) as stubs:  # fmt: skip
        yield webhooks_pb2_grpc.WebhookServiceStub(stubs.channel)


async def test_private_receivers_when_allowed(private_ok: Stub) -> None:
    made = await create(private_ok, new_webhook(url="http://127.0.0.1:9000/hook"))
    assert made.url == "http://127.0.0.1:9000/hook"


async def test_the_caller_is_who_created_it(tmp_path: Path, database_url: str) -> None:
    async with auth.secret_server(tmp_path, database_url, run_workers=False) as stubs:
        stub = webhooks_pb2_grpc.WebhookServiceStub(stubs.channel)
        response = await stub.CreateWebhook(
            webhooks_pb2.CreateWebhookRequest(webhook=new_webhook()),
            metadata=bearer(hs256(sub="carol")),
        )
        assert response.webhook.created_by == "carol"
