"""Webhook delivery from the outbox to real HTTP receivers: the spec's event bodies
with the API key header and an idempotency key, per-webhook order, filters, get_urls
options, retries with backoff, `error` after the last attempt with nothing lost, and a
slow receiver that holds up no other webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from helpers.auth import news_class
from helpers.factories import new_id, video_flow
from helpers.objects import external_post, upload_objects
from helpers.receivers import receiver
from helpers.servers import Stubs, own_server
from tams.v1 import common_pb2, flows_pb2, segments_pb2, webhooks_pb2, webhooks_pb2_grpc

W = webhooks_pb2
Metadata = tuple[tuple[str, str], ...]


@pytest.fixture
async def stubs(tmp_path: Path, database_url: str) -> AsyncIterator[Stubs]:
    async with own_server(
        tmp_path, database_url, webhook_allow_private=True, webhook_max_attempts=3,
        webhook_first_backoff_s=0.05, webhook_timeout_s=1.0, event_poll_s=0.2,
    ) as stubs:  # fmt: skip
        yield stubs
        await _delete_webhooks(stubs.channel)


async def _delete_webhooks(channel: grpc.aio.Channel, metadata: Metadata = ()) -> None:
    """Remove the test's webhooks: the database outlives the test, and its other
    servers would go on calling receivers that are gone."""
    registry = webhooks_pb2_grpc.WebhookServiceStub(channel)
    listed = await registry.ListWebhooks(W.ListWebhooksRequest(page_size=1000), metadata=metadata)
    for webhook in listed.webhooks:
        await registry.DeleteWebhook(
            W.DeleteWebhookRequest(webhook_id=webhook.id), metadata=metadata
        )


async def register(stubs: Stubs, url: str, events: list[str], **fields: object) -> W.Webhook:
    registry = webhooks_pb2_grpc.WebhookServiceStub(stubs.channel)
    webhook = W.Webhook(url=url, events=events, **fields)  # type: ignore[arg-type]
    return (await registry.CreateWebhook(W.CreateWebhookRequest(webhook=webhook))).webhook


async def status_of(stubs: Stubs, webhook_id: str) -> W.Webhook:
    registry = webhooks_pb2_grpc.WebhookServiceStub(stubs.channel)
    return (await registry.GetWebhook(W.GetWebhookRequest(webhook_id=webhook_id))).webhook


def ids(*values: str) -> common_pb2.StringList:
    return common_pb2.StringList(values=list(values))


async def test_events_arrive_in_the_spec_shape_with_key_and_cursor(stubs: Stubs) -> None:
    flow = video_flow(label="one")
    async with receiver() as hook:
        registered = await register(
            stubs, hook.url, ["flows/created", "flows/updated", "flows/segments_added"],
            api_key_name="X-Api-Key", api_key_value="s3cret", flow_ids=ids(flow.id),
        )  # fmt: skip
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=video_flow()))  # not ours
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        posts = [external_post(new_id(), f"[{i}:0_{i + 1}:0)") for i in range(3)]
        await stubs.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=posts)
        )
        await stubs.segments.DeleteSegments(  # not a type the webhook wants
            segments_pb2.DeleteSegmentsRequest(flow_id=flow.id, timerange="[0:0_1:0)")
        )
        await stubs.flows.SetFlowTag(
            flows_pb2.SetFlowTagRequest(
                flow_id=flow.id, name="n", value=common_pb2.TagValue(string_value="v")
            )
        )
        got = await hook.wait_for(3)
    assert [d.event_type for d in got] == [
        "flows/created", "flows/segments_added", "flows/updated"
    ]  # fmt: skip
    created, added, updated = got
    assert created.event["flow"]["id"] == flow.id
    assert created.event["flow"]["label"] == "one"
    assert created.body["event_timestamp"].endswith("Z")
    assert added.event["flow_id"] == flow.id
    assert [s["timerange"] for s in added.event["segments"]] == [p.timerange for p in posts]
    assert added.event["segments"][0]["get_urls"][0]["url"].startswith("https://media.example/")
    assert updated.event["flow"]["tags"] == {"n": "v"}
    assert all(d.headers["x-api-key"] == "s3cret" for d in got)
    keys = [int(d.headers["idempotency-key"]) for d in got]
    assert keys == sorted(set(keys))
    assert all(d.headers["content-type"] == "application/json" for d in got)
    assert (await status_of(stubs, registered.id)).status == "started"


async def test_get_url_options_shape_added_segments(stubs: Stubs) -> None:
    flow = video_flow()
    await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    (object_id,) = await upload_objects(stubs.channel, flow.id)
    async with receiver() as bare, receiver() as rich:
        only = ids(flow.id)
        await register(
            stubs, bare.url, ["flows/segments_added"], flow_ids=only, accept_get_urls=ids()
        )
        await register(
            stubs, rich.url, ["flows/segments_added"], flow_ids=only,
            include_object_timerange=True, verbose_storage=True,
        )  # fmt: skip
        await stubs.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(
                flow_id=flow.id,
                segments=[segments_pb2.SegmentPost(object_id=object_id, timerange="[0:0_2:0)")],
            )
        )
        (plain,) = await bare.wait_for(1)
        (full,) = await rich.wait_for(1)
    (plain_segment,) = plain.event["segments"]
    (full_segment,) = full.event["segments"]
    assert "get_urls" not in plain_segment
    assert "object_timerange" not in plain_segment
    assert full_segment["object_timerange"] == "[0:0_2:0)"
    (url,) = full_segment["get_urls"]
    assert url["presigned"] is True
    assert "storage_id" in url  # verbose_storage


async def test_failures_are_retried_in_order(stubs: Stubs) -> None:
    flow = video_flow()
    async with receiver() as hook:
        hook.answers = [500, 503]  # the first event fails twice, then all succeed
        await register(stubs, hook.url, ["flows/created", "flows/updated"], flow_ids=ids(flow.id))
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        for value in ("a", "b"):
            await stubs.flows.SetFlowTag(
                flows_pb2.SetFlowTagRequest(
                    flow_id=flow.id, name="n", value=common_pb2.TagValue(string_value=value)
                )
            )
        got = await hook.wait_for(5)
    assert [d.headers["x-answered"] for d in got] == ["500", "503", "200", "200", "200"]
    assert [d.event_type for d in got] == ["flows/created"] * 3 + ["flows/updated"] * 2
    assert [d.event["flow"]["tags"].get("n") for d in got[3:]] == ["a", "b"]
    assert len({d.headers["idempotency-key"] for d in got[:3]}) == 1  # the same event


async def test_a_receiver_that_keeps_failing_puts_the_webhook_in_error_and_loses_nothing(
    stubs: Stubs,
) -> None:
    flow = video_flow()
    registry = webhooks_pb2_grpc.WebhookServiceStub(stubs.channel)
    async with receiver() as hook:
        hook.answers = [500, 500, 500]  # max_attempts is 3
        webhook = await register(stubs, hook.url, ["flows/created", "flows/updated"],
                                 flow_ids=ids(flow.id))  # fmt: skip
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        await hook.wait_for(3)
        failed = await _wait_status(stubs, webhook.id, "error")
        assert "500" in failed.error.summary
        assert failed.error.type == "WEBHOOK_RECEIVER_STATUS"
        # Meanwhile another change: kept in the outbox.
        await stubs.flows.SetFlowTag(
            flows_pb2.SetFlowTagRequest(
                flow_id=flow.id, name="n", value=common_pb2.TagValue(string_value="later")
            )
        )
        failed.status = "created"
        failed.ClearField("error")
        await registry.UpdateWebhook(W.UpdateWebhookRequest(webhook=failed))
        got = await hook.wait_for(5)
    assert [d.event_type for d in got[3:]] == ["flows/created", "flows/updated"]
    assert got[4].event["flow"]["tags"] == {"n": "later"}


async def _wait_status(stubs: Stubs, webhook_id: str, status: str) -> W.Webhook:
    async with asyncio.timeout(20):
        while (webhook := await status_of(stubs, webhook_id)).status != status:  # noqa: ASYNC110 - the registry is the witness
            await asyncio.sleep(0.05)
    return webhook


async def test_a_slow_receiver_holds_up_no_other_webhook(stubs: Stubs) -> None:
    flow = video_flow()
    async with receiver() as slow, receiver() as quick:
        slow.pause_s = 5.0  # longer than the 1 s receiver timeout
        await register(stubs, slow.url, ["flows/created"], flow_ids=ids(flow.id))
        await register(stubs, quick.url, ["flows/created"], flow_ids=ids(flow.id))
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        (delivered,) = await quick.wait_for(1)
        assert not slow.deliveries  # still waiting on the slow one
    assert delivered.event["flow"]["id"] == flow.id


async def test_redirects_are_not_followed(stubs: Stubs) -> None:
    flow = video_flow()
    async with receiver() as hook:
        hook.answers = [302, 302, 302]
        webhook = await register(stubs, hook.url, ["flows/created"], flow_ids=ids(flow.id))
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        failed = await _wait_status(stubs, webhook.id, "error")
    assert failed.error.type == "WEBHOOK_RECEIVER_REDIRECT"
    assert len(hook.deliveries) == 3


async def test_collection_filters_follow_the_flows_collections(stubs: Stubs) -> None:
    member, loose = video_flow(), video_flow()
    collector = video_flow()
    for flow in (member, loose, collector):
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    collector.flow_collection.add(id=member.id, role="main")
    await stubs.flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=collector))
    async with receiver() as collected, receiver() as uncollected:
        await register(
            stubs, collected.url, ["flows/updated"], flow_collected_by_ids=ids(collector.id)
        )
        await register(
            stubs, uncollected.url, ["flows/updated"], flow_ids=ids(member.id, loose.id),
            flow_collected_by_ids=ids(),
        )  # fmt: skip
        for flow in (member, loose):
            await stubs.flows.SetFlowTag(
                flows_pb2.SetFlowTagRequest(
                    flow_id=flow.id, name="n", value=common_pb2.TagValue(string_value="v")
                )
            )
        (in_collection,) = await collected.wait_for(1)
        (in_none,) = await uncollected.wait_for(1)
    assert in_collection.event["flow"]["id"] == member.id
    assert in_none.event["flow"]["id"] == loose.id


async def test_a_webhook_gets_only_what_its_owner_may_read(
    tmp_path: Path, database_url: str
) -> None:
    settings, admin, newsroom = news_class(tmp_path)
    news = video_flow(tags={"auth_classes": "news"})
    sport = video_flow(tags={"auth_classes": "sport"})
    plain = video_flow()
    async with (
        own_server(
            tmp_path / "data",
            database_url,
            **settings,
            webhook_allow_private=True,
            event_poll_s=0.2,
        ) as stubs,  # fmt: skip
        receiver() as hook,
        receiver() as redirected,
    ):
        registry = webhooks_pb2_grpc.WebhookServiceStub(stubs.channel)
        mine = (
            await registry.CreateWebhook(
                W.CreateWebhookRequest(webhook=W.Webhook(url=hook.url, events=["flows/created"])),
                metadata=newsroom,
            )
        ).webhook
        # The admin's own webhook, which the newsroom then points at its receiver: it
        # gets what the newsroom may read, no more.
        theirs = (
            await registry.CreateWebhook(
                W.CreateWebhookRequest(webhook=W.Webhook(url=hook.url, events=["flows/created"])),
                metadata=admin,
            )
        ).webhook
        theirs.url = redirected.url
        theirs.status = "created"
        await registry.UpdateWebhook(W.UpdateWebhookRequest(webhook=theirs), metadata=newsroom)
        for flow in (news, sport, plain):
            await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow), metadata=admin)
        got = await hook.wait_for(2)
        moved = await redirected.wait_for(2)
        await asyncio.sleep(0.5)  # time for a stray sport event to show
        await _delete_webhooks(stubs.channel, admin)
    assert mine.created_by == "nina"
    assert [d.event["flow"]["id"] for d in got] == [news.id, plain.id]
    assert [d.event["flow"]["id"] for d in moved] == [news.id, plain.id]
    assert len(hook.deliveries) == len(redirected.deliveries) == 2


async def test_receivers_that_time_out_or_hang_up_are_retried_then_error(stubs: Stubs) -> None:
    flow = video_flow()
    hangups = 0

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal hangups
        hangups += 1
        await reader.read(1)  # the request has begun; close without an answer
        writer.close()

    closer = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = closer.sockets[0].getsockname()[1]
    async with closer, receiver() as slow:
        slow.pause_s = 3.0  # past the 1 s receiver timeout
        timing_out = await register(stubs, slow.url, ["flows/created"], flow_ids=ids(flow.id))
        hanging_up = await register(
            stubs, f"http://127.0.0.1:{port}/hook", ["flows/created"], flow_ids=ids(flow.id)
        )
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        timed_out = await _wait_status(stubs, timing_out.id, "error")
        hung_up = await _wait_status(stubs, hanging_up.id, "error")
    assert timed_out.error.type == "WEBHOOK_RECEIVER_TIMEOUT"
    assert hung_up.error.type == "WEBHOOK_RECEIVER_UNREACHABLE"
    assert hangups == 3  # max_attempts


async def test_an_empty_id_filter_passes_nothing(stubs: Stubs) -> None:
    flow = video_flow()
    async with receiver() as empty, receiver() as unset:
        await register(stubs, empty.url, ["flows/created"], flow_ids=ids())
        await register(stubs, unset.url, ["flows/created"])
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        await unset.wait_for(1)
        await asyncio.sleep(0.5)  # time for a stray delivery to show
    assert not empty.deliveries
