"""``GET /metrics``: the Prometheus series of a real server after real calls over gRPC
and HTTP, and who may scrape them (``--metrics auth|public|off``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import auth
from helpers.auth import STATIC_TOKEN, hs256
from helpers.factories import video_flow
from helpers.objects import external_post, new_flow
from helpers.receivers import receiver
from helpers.servers import Stubs, module_fixture, own_server
from tams.v1 import (
    flows_pb2,
    segments_pb2,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from tams_server.app import serve
from tams_server.config import Config
from tams_server.config.errors import ConfigError

SEGMENTS = "tams.v1.SegmentService"
FLOWS = "tams.v1.FlowService"
MISSING = "00000000-0000-4000-8000-000000000000"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(stubs: Stubs, **headers: str) -> Samples:
    async with httpx.AsyncClient(base_url=stubs.running.http_url) as http:
        answer = await http.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return samples(answer.text)


def _posts(first: int, count: int) -> Iterator[segments_pb2.SegmentPost]:
    for i in range(first, first + count):
        yield external_post(f"metrics-{i}", f"[{i}:0_{i + 1}:0)")


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[Stubs]:
    """A server of this test's own (its counts start at zero), anonymous on loopback."""
    async with own_server(tmp_path, database_url, run_workers=False) as stubs:
        yield stubs


async def test_grpc_series_count_each_call_by_type_and_code(server: Stubs) -> None:
    flow_id = await new_flow(server.flows)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await server.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=MISSING))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    await server.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id))
    registered = await server.segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=list(_posts(0, 3)))
    )
    assert registered.registered_count == 3

    async def batches() -> AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest]:
        for first in (3, 5):
            yield segments_pb2.StreamRegisterSegmentsRequest(
                flow_id=flow_id, segments=list(_posts(first, 2))
            )

    streamed_in = await server.segments.StreamRegisterSegments(batches())
    assert streamed_in.registered_count == 4
    pages = [
        page
        async for page in server.segments.StreamSegments(
            segments_pb2.StreamSegmentsRequest(flow_id=flow_id)
        )
    ]
    assert sum(len(page.segments) for page in pages) == 7

    scraped = await scrape(server)
    unary = {"grpc_type": "unary", "grpc_service": FLOWS, "grpc_method": "GetFlow"}
    assert value(scraped, "grpc_server_started_total", **unary) == 2
    assert value(scraped, "grpc_server_handled_total", **unary, grpc_code="OK") == 1
    assert value(scraped, "grpc_server_handled_total", **unary, grpc_code="NOT_FOUND") == 1
    assert value(scraped, "grpc_server_handling_seconds_count", **unary) == 2
    assert value(scraped, "grpc_server_handling_seconds_bucket", **unary, le="+Inf") == 2
    assert value(scraped, "grpc_server_msg_received_total", **unary) == 2
    assert value(scraped, "grpc_server_msg_sent_total", **unary) == 1

    client_stream = {
        "grpc_type": "client_stream", "grpc_service": SEGMENTS,
        "grpc_method": "StreamRegisterSegments",
    }  # fmt: skip
    assert value(scraped, "grpc_server_handled_total", **client_stream, grpc_code="OK") == 1
    assert value(scraped, "grpc_server_msg_received_total", **client_stream) == 2
    server_stream = {
        "grpc_type": "server_stream", "grpc_service": SEGMENTS, "grpc_method": "StreamSegments",
    }  # fmt: skip
    assert value(scraped, "grpc_server_handled_total", **server_stream, grpc_code="OK") == 1
    assert value(scraped, "grpc_server_msg_sent_total", **server_stream) == len(pages)

    assert value(scraped, "tams_segments_registered_total") == 7
    assert value(scraped, "tams_segments_streamed_total", grpc_method="StreamSegments") == 7
    # The database's series: statements were timed, the pool is there.
    assert value(scraped, "tams_db_query_seconds_count") > 0
    assert ("tams_db_pool_checked_out", frozenset()) in scraped
    assert ("tams_flow_delete_requests_pending", frozenset()) in scraped


async def test_an_unauthenticated_call_counts_with_its_code(
    tmp_path: Path, database_url: str
) -> None:
    async with auth.secret_server(tmp_path, database_url, run_workers=False) as stubs:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stubs.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id="x"))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        scraped = await scrape(stubs, authorization=f"Bearer {hs256(scope='tams-api/metrics')}")
    labels = {"grpc_type": "unary", "grpc_service": FLOWS, "grpc_method": "GetFlow"}
    assert value(scraped, "grpc_server_handled_total", **labels, grpc_code="UNAUTHENTICATED") == 1


async def test_rest_series_count_by_route_template_and_status(server: Stubs) -> None:
    flow_id = await new_flow(server.flows)
    async with httpx.AsyncClient(base_url=server.running.http_url) as http:
        assert (await http.get(f"/flows/{flow_id}")).status_code == 200
        assert (await http.get("/flows/00000000-0000-4000-8000-000000000000")).status_code == 404
        assert (await http.get("/no/such/route")).status_code == 404
        assert (await http.get(f"/flows/{flow_id}/segments")).status_code == 200
    scraped = await scrape(server)
    by_id = {"method": "GET", "route": "/flows/{flow_id}"}
    assert value(scraped, "http_requests_total", **by_id, code="200") == 1
    assert value(scraped, "http_requests_total", **by_id, code="404") == 1
    assert value(scraped, "http_request_duration_seconds_count", **by_id) == 2
    assert value(scraped, "http_requests_total", method="GET", route="unmatched", code="404") == 1
    segments_route = {"method": "GET", "route": "/flows/{flow_id}/segments", "code": "200"}
    assert value(scraped, "http_requests_total", **segments_route) == 1
    # No id became a label.
    assert not any(flow_id in str(labels) for _name, labels in scraped)
    # The REST calls reached the gRPC side, and listed Segments count there.
    get_flow = {"grpc_type": "unary", "grpc_service": FLOWS, "grpc_method": "GetFlow"}
    assert value(scraped, "grpc_server_handled_total", **get_flow, grpc_code="NOT_FOUND") == 1
    assert ("tams_segments_streamed_total", frozenset({("grpc_method", "ListSegments")})) in scraped


async def test_backlogs_are_read_when_scraped(tmp_path: Path, database_url: str) -> None:
    # No workers: a delete request stays pending; a webhook sees events it has not had.
    async with own_server(
        tmp_path, database_url, run_workers=False, inline_delete_limit=1
    ) as stubs:
        # The database outlives this server (other tests' rows count too): compare.
        before = await scrape(stubs)
        hooks = webhooks_pb2_grpc.WebhookServiceStub(stubs.channel)
        hook = await hooks.CreateWebhook(
            webhooks_pb2.CreateWebhookRequest(
                webhook=webhooks_pb2.Webhook(
                    url="https://receiver.example.com/hook", events=["flows/created"]
                )
            )
        )
        flow_id = await new_flow(stubs.flows)
        await stubs.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=list(_posts(0, 2)))
        )
        deleted = await stubs.flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow_id))
        assert deleted.HasField("delete_request")
        scraped = await scrape(stubs)
        await hooks.DeleteWebhook(webhooks_pb2.DeleteWebhookRequest(webhook_id=hook.webhook.id))
    pending = "tams_flow_delete_requests_pending"
    assert value(scraped, pending) == value(before, pending) + 1
    assert value(scraped, "tams_events_last_cursor") > value(before, "tams_events_last_cursor")
    assert value(scraped, "tams_webhook_outbox_lag_events") >= 1
    assert ("tams_janitor_expired_objects", frozenset()) in scraped


def delivered(scraped: Samples) -> float:
    return value(scraped, "tams_webhook_deliveries_total", result="delivered")


async def test_webhook_deliveries_count_by_outcome(tmp_path: Path, database_url: str) -> None:
    async with (
        own_server(
            tmp_path, database_url, webhook_allow_private=True, webhook_first_backoff_s=0.05,
            webhook_timeout_s=1.0, event_poll_s=0.2,
        ) as stubs,
        receiver() as hook,
    ):  # fmt: skip
        hook.answers = [500]  # the first POST fails, its retry and the next succeed
        flow = video_flow()
        await webhooks_pb2_grpc.WebhookServiceStub(stubs.channel).CreateWebhook(
            webhooks_pb2.CreateWebhookRequest(
                webhook=webhooks_pb2.Webhook(url=hook.url, events=["flows/created"])
            )
        )
        await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        await new_flow(stubs.flows)
        await hook.wait_for(3)
        async with asyncio.timeout(10):  # the last POST counts once its answer is back
            while delivered(scraped := await scrape(stubs)) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    # Other tests' webhooks share the database, their receivers gone: failures only.
    assert value(scraped, "tams_webhook_deliveries_total", result="failed") >= 1
    assert delivered(scraped) == 2


async def test_servers_in_one_process_count_apart(tmp_path: Path, database_url: str) -> None:
    async with (
        own_server(tmp_path / "a", database_url, run_workers=False) as a,
        own_server(tmp_path / "b", database_url, run_workers=False) as b,
    ):
        await new_flow(a.flows)
        create = {"grpc_type": "unary", "grpc_service": FLOWS, "grpc_method": "CreateFlow"}
        assert value(await scrape(a), "grpc_server_started_total", **create) == 1
        assert value(await scrape(b), "grpc_server_started_total", **create) == 0


# Who may scrape.


secret_server = module_fixture(auth.secret_server, "metrics", run_workers=False)


async def status_of(stubs: Stubs, authorization: str | None = None) -> int:
    headers = {} if authorization is None else {"authorization": authorization}
    async with httpx.AsyncClient(base_url=stubs.running.http_url) as http:
        answer = await http.get("/metrics", headers=headers)
    if answer.status_code == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")
    return answer.status_code


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer not-a-token", 401),
        (f"Bearer {hs256(scope='tams-api/read tams-api/write tams-api/delete')}", 403),
        (f"Bearer {STATIC_TOKEN}", 403),  # read and write: no right to scrape
        (f"Bearer {hs256(scope='tams-api/metrics')}", 200),
        (f"Bearer {hs256(scope='tams-api/admin')}", 200),
    ],
    ids=["none", "invalid", "api-scopes", "static-token", "metrics-scope", "admin"],
)
async def test_with_authentication_scraping_needs_the_metrics_scope(
    secret_server: Stubs, authorization: str | None, status: int
) -> None:
    assert await status_of(secret_server, authorization) == status


async def test_public_metrics_need_no_credentials(tmp_path: Path, database_url: str) -> None:
    async with auth.secret_server(
        tmp_path, database_url, run_workers=False, metrics="public"
    ) as stubs:
        assert await status_of(stubs) == 200
        # The API itself still wants credentials.
        async with httpx.AsyncClient(base_url=stubs.running.http_url) as http:
            assert (await http.get("/flows")).status_code == 401


async def test_without_authentication_metrics_are_open_as_the_api_is(server: Stubs) -> None:
    assert await status_of(server) == 200


async def test_metrics_off_serves_none_and_the_server_works(
    tmp_path: Path, database_url: str
) -> None:
    async with own_server(tmp_path, database_url, run_workers=False, metrics="off") as stubs:
        await new_flow(stubs.flows)
        assert await status_of(stubs) == 404


async def test_an_unknown_metrics_setting_is_refused(tmp_path: Path) -> None:
    config = Config(grpc_port=0, http_port=0, data_dir=tmp_path, metrics="everyone")
    with pytest.raises(ConfigError, match="--metrics"):
        async with serve(config):
            pass
