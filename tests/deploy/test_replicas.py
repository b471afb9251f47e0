"""Two replicas on one PostgreSQL and one S3 endpoint, run as deploy/compose.yaml runs
them: the `migrate` job's and the replicas' commands and environment are read from
that file, and only what names this machine's parts changes (addresses and ports, the
database, the bucket, the data folder, the token secret) plus two timings that keep
the test short. So the compose file and the tested setup cannot drift apart.

- a change committed through A reaches a watcher on B;
- webhooks get each event once across A and B, in order;
- a replica killed in the middle of a delivery loses its lease and the other one
  finishes (the receiver may see that event twice, with the same idempotency key);
- a flow delete request is finished by the two workers together, each batch once.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import grpc
import httpx
import pytest
import yaml
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import S3_REGION, postgresql_url
from helpers.factories import new_id, video_flow
from helpers.objects import external_post
from helpers.receivers import receiver
from tams.v1 import (
    common_pb2,
    events_pb2,
    events_pb2_grpc,
    flow_delete_requests_pb2,
    flow_delete_requests_pb2_grpc,
    flows_pb2,
    flows_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from tams_server.auth.minting import mint_token

COMPOSE = Path(__file__).parents[2] / "deploy" / "compose.yaml"
SECRET = "replica-test-secret-of-at-least-32-bytes"
WAIT_S = 30
# Shorter than the compose file's: the take-over after a kill waits out one lease.
DONE = flow_delete_requests_pb2.FLOW_DELETE_REQUEST_STATUS_DONE
TIMINGS = {
    "TAMS_WEBHOOK_LEASE": "2s", "TAMS_WEBHOOK_TIMEOUT": "0.5s", "TAMS_JANITOR_INTERVAL": "0.2s",
}  # fmt: skip


def compose_service(name: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment compose gives a service."""
    service = yaml.safe_load(COMPOSE.read_text())["services"][name]
    return list(service["command"]), {k: str(v) for k, v in service["environment"].items()}


def test_the_replicas_share_what_they_must() -> None:
    command, environment = compose_service("replica-a")
    assert (command, environment) == compose_service("replica-b")
    assert command == ["serve"]
    for shared in ("TAMS_DATABASE_URL", "TAMS_STORAGE", "TAMS_JWT_SECRET"):
        assert shared in environment
    assert environment["TAMS_MIGRATE_ON_START"] == "false"  # the migrate job does it


@dataclass
class Replica:
    """A replica process and how to call it."""

    name: str
    process: asyncio.subprocess.Process
    target: str
    channel: grpc.aio.Channel
    log: list[str]
    """Its log lines so far."""

    def stub(self, stub_type: Any) -> Any:
        return stub_type(self.channel)


class Cluster:
    """Starts replicas the way compose does, on this machine's parts."""

    def __init__(self, tmp_path: Path, storage: str, database_url: str) -> None:
        self._tmp = tmp_path
        self._storage = storage
        self._database = database_url
        self.replicas: list[Replica] = []
        self._readers: list[asyncio.Task[None]] = []
        self.bucket = ""

    def environment(self, compose_env: dict[str, str], name: str) -> dict[str, str]:
        here = {
            "TAMS_DATABASE_URL": self._database, "TAMS_STORAGE": self._storage,
            "TAMS_GRPC_HOST": "127.0.0.1", "TAMS_GRPC_PORT": "0",
            "TAMS_HTTP_HOST": "127.0.0.1", "TAMS_HTTP_PORT": "0",
            "TAMS_DATA_DIR": str(self._tmp / name), "TAMS_JWT_SECRET": SECRET,
            # The receivers of this test listen on loopback.
            "TAMS_WEBHOOK_ALLOW_PRIVATE": "true",
        }  # fmt: skip
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
        return {**inherited, **compose_env, **here, **TIMINGS}

    async def migrate(self) -> None:
        command, env = compose_service("migrate")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tams_server", *command, env=self.environment(env, "migrate")
        )
        assert await process.wait() == 0

    async def start(self, name: str) -> Replica:
        command, env = compose_service(f"replica-{name}")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tams_server", *command, env=self.environment(env, name),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        assert process.stderr is not None
        async with asyncio.timeout(WAIT_S):
            line = (await process.stdout.readline()).decode()
        target = line.rsplit(" ", 1)[1].strip()
        channel = grpc.aio.insecure_channel(target)
        replica = Replica(name, process, target, channel, [])
        self._readers.append(asyncio.create_task(_read_lines(process.stderr, replica.log)))
        self.replicas.append(replica)
        return replica

    async def kill(self, replica: Replica) -> None:
        """SIGKILL: no graceful shutdown, leases left behind."""
        replica.process.kill()
        await replica.process.wait()
        await replica.channel.close()
        self.replicas.remove(replica)

    async def stop_all(self) -> None:
        for replica in list(self.replicas):
            replica.process.terminate()
            await replica.process.wait()
            await replica.channel.close()
        self.replicas.clear()
        await asyncio.gather(*self._readers)


async def _read_lines(stream: asyncio.StreamReader, lines: list[str]) -> None:
    """Keep a process's log (and its pipe from filling up) until it ends."""
    while line := await stream.readline():
        lines.append(line.decode(errors="replace"))


@pytest.fixture
async def fresh_database() -> AsyncIterator[str]:
    """A new, empty database on the test PostgreSQL, as a deployment starts with (and
    no other test's leftovers for the workers to work through)."""
    url = make_url(postgresql_url())
    name = f"tams_replicas_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def cluster(tmp_path: Path, s3_backend: str, fresh_database: str) -> AsyncIterator[Cluster]:
    cluster = Cluster(tmp_path, f"{s3_backend}&label=media", fresh_database)
    cluster.bucket = s3_backend.removeprefix("s3://").split("?")[0]
    await cluster.migrate()
    try:
        yield cluster
    finally:
        await cluster.stop_all()


TOKEN = mint_token(
    SECRET, subject="replica-test", ttl_s=3600,
    scopes=["tams-api/read", "tams-api/write", "tams-api/delete", "tams-api/admin"],
)  # fmt: skip
AUTH = (("authorization", f"Bearer {TOKEN}"),)


async def create_flow(replica: Replica) -> flows_pb2.Flow:
    flow = video_flow()
    await replica.stub(flows_pb2_grpc.FlowServiceStub).CreateFlow(
        flows_pb2.CreateFlowRequest(flow=flow), metadata=AUTH
    )
    return flow


async def set_tag(replica: Replica, flow_id: str, value: str) -> None:
    await replica.stub(flows_pb2_grpc.FlowServiceStub).SetFlowTag(
        flows_pb2.SetFlowTagRequest(
            flow_id=flow_id, name="n", value=common_pb2.TagValue(string_value=value)
        ),
        metadata=AUTH,
    )


async def register_webhook(replica: Replica, url: str, flow_id: str) -> None:
    webhook = webhooks_pb2.Webhook(
        url=url, events=["flows/created", "flows/updated"],
        flow_ids=common_pb2.StringList(values=[flow_id]),
    )  # fmt: skip
    await replica.stub(webhooks_pb2_grpc.WebhookServiceStub).CreateWebhook(
        webhooks_pb2.CreateWebhookRequest(webhook=webhook), metadata=AUTH
    )


async def test_health_events_and_webhooks_across_two_replicas(cluster: Cluster) -> None:
    a, b = await cluster.start("a"), await cluster.start("b")
    for replica in (a, b):
        health = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tams_server", "health", "--grpc-target", replica.target,
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert await health.wait() == 0
    flow = video_flow()
    watch = b.stub(events_pb2_grpc.EventServiceStub).WatchEvents(
        events_pb2.WatchEventsRequest(flow_ids=[flow.id]), metadata=AUTH
    )
    await watch.read()  # watching B from now on
    async with receiver() as hook:
        await register_webhook(a, hook.url, flow.id)
        await a.stub(flows_pb2_grpc.FlowServiceStub).CreateFlow(
            flows_pb2.CreateFlowRequest(flow=flow), metadata=AUTH
        )
        async with asyncio.timeout(WAIT_S):
            first = await watch.read()
        assert isinstance(first, events_pb2.WatchEventsResponse)
        assert first.events[0].flow.id == flow.id  # committed on A, heard on B
        for i in range(20):  # changes through both replicas
            await set_tag((a, b)[i % 2], flow.id, str(i))
        got = await hook.wait_for(21)
        await asyncio.sleep(1.0)  # time for a stray duplicate to show
    watch.cancel()
    keys = [d.headers["idempotency-key"] for d in hook.deliveries]
    assert len(keys) == len(set(keys)) == 21  # each event once, across A and B
    assert [d.event["flow"]["tags"].get("n") for d in got[1:]] == [str(i) for i in range(20)]


async def test_a_replica_killed_mid_delivery_leaves_it_to_the_other(cluster: Cluster) -> None:
    a = await cluster.start("a")
    async with receiver() as hook:
        hook.pause_s = 3.0  # A's first POST is held while A is killed
        flow = await create_flow(a)
        await register_webhook(a, hook.url, flow.id)
        await set_tag(a, flow.id, "1")
        await hook.wait_started(1)
        await cluster.kill(a)
        hook.pause_s = 0.0
        b = await cluster.start("b")
        await set_tag(b, flow.id, "2")
        async with asyncio.timeout(WAIT_S), hook.arrived:
            await hook.arrived.wait_for(lambda: _tags(hook.accepted()) >= ["1", "2"])
    accepted = _tags(hook.accepted())
    assert accepted[-2:] == ["1", "2"]  # in order, after the lease ran out
    assert set(accepted) == {"1", "2"}


def _tags(deliveries: list[Any]) -> list[str]:
    return [d.event["flow"]["tags"].get("n") for d in deliveries]


async def test_two_workers_finish_a_delete_request_each_batch_once(cluster: Cluster) -> None:
    a, b = await cluster.start("a"), await cluster.start("b")
    flow = await create_flow(a)
    segments = a.stub(segments_pb2_grpc.SegmentServiceStub)
    for first in (0, 6000):  # more than the inline limit of 10,000: a delete request
        span = range(first, first + 6000)
        posts = [external_post(new_id(), f"[{i}:0_{i + 1}:0)") for i in span]
        await segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=posts), metadata=AUTH
        )
    watch = b.stub(events_pb2_grpc.EventServiceStub).WatchEvents(
        events_pb2.WatchEventsRequest(
            flow_ids=[flow.id],
            event_types=[events_pb2.EVENT_TYPE_FLOW_SEGMENTS_DELETED],
        ),
        metadata=AUTH,
    )
    await watch.read()
    deleted = await a.stub(flows_pb2_grpc.FlowServiceStub).DeleteFlow(
        flows_pb2.DeleteFlowRequest(flow_id=flow.id), metadata=AUTH
    )
    request_id = deleted.delete_request.id
    assert request_id
    requests = b.stub(flow_delete_requests_pb2_grpc.FlowDeleteRequestServiceStub)
    spans: list[tuple[int, int]] = []
    async with asyncio.timeout(WAIT_S * 2):
        while sum(end - start for start, end in spans) < 12000:
            response = await watch.read()
            assert isinstance(response, events_pb2.WatchEventsResponse)
            spans += [_seconds(e.segments_deleted.timerange) for e in response.events]
        while True:
            got = await requests.GetFlowDeleteRequest(
                flow_delete_requests_pb2.GetFlowDeleteRequestRequest(request_id=request_id),
                metadata=AUTH,
            )
            if got.delete_request.status == DONE:
                break
            await asyncio.sleep(0.1)
    watch.cancel()
    spans.sort()
    assert spans[0][0] == 0
    assert spans[-1][1] == 12000
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def _seconds(timerange: str) -> tuple[int, int]:
    """``[3:0_7:0)`` as (3, 7)."""
    start, end = timerange[1:-1].split("_")
    return int(start.split(":")[0]), int(end.split(":")[0])


async def test_two_janitors_remove_each_unused_object_once(
    cluster: Cluster, s3_endpoint: str
) -> None:
    a, b = await cluster.start("a"), await cluster.start("b")
    flow = await create_flow(a)
    allocation = a.stub(storage_pb2_grpc.StorageServiceStub).AllocateStorage(
        storage_pb2.AllocateStorageRequest(flow_id=flow.id, limit=10), metadata=AUTH
    )
    objects = [item async for page in allocation for item in page.media_objects]
    async with httpx.AsyncClient() as http:
        for item in objects:
            headers = {"Content-Type": item.put_url.content_type, **item.put_url.headers}
            put = await http.put(item.put_url.url, content=b"ts", headers=headers)
            put.raise_for_status()
    posts = [
        segments_pb2.SegmentPost(object_id=item.object_id, timerange=f"[{i}:0_{i + 1}:0)")
        for i, item in enumerate(objects)
    ]
    registered = await a.stub(segments_pb2_grpc.SegmentServiceStub).RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow.id, segments=posts), metadata=AUTH
    )
    assert registered.registered_count == 10
    assert len(_keys(s3_endpoint, cluster.bucket)) == 10
    await b.stub(flows_pb2_grpc.FlowServiceStub).DeleteFlow(
        flows_pb2.DeleteFlowRequest(flow_id=flow.id), metadata=AUTH
    )
    # Both janitors sweep every 0.2 s; the bucket says when the bytes are gone. A
    # janitor logs its round once the round is over, and its log comes through a pipe:
    # the last line may arrive after the bucket is empty.
    async with asyncio.timeout(WAIT_S):
        while await asyncio.to_thread(_keys, s3_endpoint, cluster.bucket):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        while _removed(a, b) < 10:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a few more rounds: none may remove an object again
    assert _removed(a, b) == 10  # each object once, whichever janitor got it


def _removed(*replicas: Replica) -> int:
    """The Objects the replicas' janitors say they removed."""
    return sum(
        int(match.group(1))
        for replica in replicas
        for line in replica.log
        if (match := re.search(r"janitor removed (\d+) object", line))
    )


def _keys(endpoint: str, bucket: str) -> list[str]:
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name=S3_REGION, aws_access_key_id="k",
        aws_secret_access_key="s",
    )  # fmt: skip
    listed = s3.list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listed.get("Contents", [])]
