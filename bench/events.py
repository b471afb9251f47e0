"""Events: what the outbox costs and how fast a watcher hears of a commit.

- registration throughput with the outbox on and off (two server processes, rounds
  interleaved so the machine's noise falls on both), and their ratio;
- commit-to-watcher latency, p50 and p99, while a client registers 10,000 Segments a
  second in calls of 1,000 (one event each): the time from an event's timestamp (taken
  in its transaction, just before the commit) to its arrival at a WatchEvents stream,
  without and with download URLs for the thousand Segments of each event. Server and
  watcher share this machine's clock;
- commit-to-receiver latency, p50 and p99, of webhook deliveries to 10 webhooks (one
  receiver in this process) under the same load.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench._common import external_posts, report, server_process, video_flow_message
from bench._measure import percentile
from tams.v1 import common_pb2, objects_pb2, webhooks_pb2
from tams_client import AsyncTamsClient

RATE_PER_S = 10_000
CALL_SIZE = 1000


async def _registration_rate(target: str, total: int) -> float:
    """Segments a second, registering ``total`` on a new Flow in batches of 1,000."""
    async with AsyncTamsClient(target, timeout=None) as tams:
        flow = video_flow_message()
        await tams.create_flow(flow)
        t0 = time.perf_counter()
        result = await tams.stream_register_segments(
            flow.id, external_posts("ev", total), batch_size=1000
        )
        elapsed = time.perf_counter() - t0
        assert result.registered_count == total, result.failed_segments[:3]
        return total / elapsed


async def _outbox_cost(database_url: str | None, engine: str, *, total: int, rounds: int) -> None:
    on_rates: list[float] = []
    off_rates: list[float] = []
    async with (
        server_process(database_url) as (on, _),
        server_process(database_url, env={"TAMS_EVENTS": "false"}) as (off, _),
    ):
        for _ in range(rounds):
            on_rates.append(await _registration_rate(on, total))
            off_rates.append(await _registration_rate(off, total))
    on_median, off_median = statistics.median(on_rates), statistics.median(off_rates)
    report("registration_outbox_on_per_s", on_median, "segments/s", engine=engine,
           rounds=rounds, segments=total)  # fmt: skip
    report("registration_outbox_off_per_s", off_median, "segments/s", engine=engine,
           rounds=rounds, segments=total)  # fmt: skip
    report("registration_outbox_on_over_off", on_median / off_median, "ratio", engine=engine,
           target=">= 0.85")  # fmt: skip


async def _watch_latency(
    database_url: str | None, engine: str, *, seconds: float, urls: bool
) -> None:
    async with (
        server_process(database_url) as (target, _),
        AsyncTamsClient(target, timeout=None) as tams,
    ):
        flow = video_flow_message()
        await tams.create_flow(flow)
        calls = int(seconds * RATE_PER_S / CALL_SIZE)
        latencies: list[float] = []
        started = asyncio.Event()

        async def watch() -> None:
            bare = objects_pb2.GetUrlOptions(accept_get_urls_set=True)
            pages = tams.watch_events(
                flow_ids=[flow.id], event_types=["flows/segments_added"],
                get_url_options=None if urls else bare,
            )  # fmt: skip
            async for page in pages.pages():
                arrived = time.time()
                started.set()
                for event in page.events:
                    sent = event.event_timestamp.seconds + event.event_timestamp.nanos / 1e9
                    latencies.append(arrived - sent)
                if len(latencies) >= calls:
                    return

        watcher = asyncio.create_task(watch())
        await started.wait()
        achieved = await _paced_registrations(tams, flow.id, calls)
        await asyncio.wait_for(watcher, 30)
    suffix = "" if urls else "_without_urls"
    load = {"registering_per_s": round(achieved), "events": len(latencies), "target": "<= 100"}
    for name, fraction in (("p50", 0.5), ("p99", 0.99)):
        report(f"commit_to_watcher{suffix}_{name}_ms", percentile(latencies, fraction) * 1000,
               "ms", engine=engine, **load)  # fmt: skip


async def _paced_registrations(tams: AsyncTamsClient, flow_id: str, calls: int) -> float:
    """Register ``calls`` calls of CALL_SIZE Segments at RATE_PER_S; the rate reached."""
    t0 = time.perf_counter()
    for call in range(calls):
        delay = t0 + call * CALL_SIZE / RATE_PER_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        posts = list(external_posts("ev", CALL_SIZE, first=call * CALL_SIZE))
        result = await tams.register_segments(flow_id, posts)
        assert not result.failed_segments, result.failed_segments[:2]
    return calls * CALL_SIZE / (time.perf_counter() - t0)


@asynccontextmanager
async def _receiver(
    arrivals: list[float], expected: int, done: asyncio.Event
) -> AsyncIterator[str]:
    """A webhook receiver on a free loopback port: the commit-to-arrival time of each
    delivery into ``arrivals``; ``done`` once ``expected`` arrived."""

    async def hook(request: Request) -> Response:
        body = json.loads(await request.body())
        stamp = datetime.fromisoformat(body["event_timestamp"].replace("Z", "+00:00"))
        arrivals.append(time.time() - stamp.timestamp())
        if len(arrivals) >= expected:
            done.set()
        return Response(status_code=200)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _webhook_latency(
    database_url: str | None, engine: str, *, seconds: float, webhooks: int = 10
) -> None:
    calls = int(seconds * RATE_PER_S / CALL_SIZE)
    arrivals: list[float] = []
    done = asyncio.Event()
    env = {"TAMS_WEBHOOK_ALLOW_PRIVATE": "true"}
    async with (
        _receiver(arrivals, calls * webhooks, done) as url,
        server_process(database_url, env=env) as (target, _),
        AsyncTamsClient(target, timeout=None) as tams,
    ):
        flow = video_flow_message()
        await tams.create_flow(flow)
        for _ in range(webhooks):
            await tams.create_webhook(
                webhooks_pb2.Webhook(
                    url=url, events=["flows/segments_added"],
                    flow_ids=common_pb2.StringList(values=[flow.id]),
                    accept_get_urls=common_pb2.StringList(values=[]),
                )
            )  # fmt: skip
        achieved = await _paced_registrations(tams, flow.id, calls)
        await asyncio.wait_for(done.wait(), 60)
    load = {"webhooks": webhooks, "registering_per_s": round(achieved), "deliveries": len(arrivals)}
    for name, fraction in (("p50", 0.5), ("p99", 0.99)):
        report(f"commit_to_webhook_{name}_ms", percentile(arrivals, fraction) * 1000, "ms",
               engine=engine, **load)  # fmt: skip


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    engine = "postgresql" if database_url else "sqlite"
    total, rounds = (1_000, 1) if tiny else (20_000, 3) if quick else (100_000, 5)
    await _outbox_cost(database_url, engine, total=total, rounds=rounds)
    seconds = 0.3 if tiny else 3 if quick else 10
    for urls in (False, True):
        await _watch_latency(database_url, engine, seconds=seconds, urls=urls)
    await _webhook_latency(database_url, engine, seconds=seconds)
