"""The REST gateway against the gRPC call it translates: a 100-Segment page of one Flow
(``GET /flows/{id}/segments?limit=100`` against ``SegmentService/ListSegments`` with
page_size 100), the server in its own process.

- latency: sequential requests on one keep-alive HTTP connection and one gRPC channel,
  interleaved so that noise on this shared machine hits all alike; medians and p90s,
  without get_urls (the fair comparison: the same rows, JSON against protobuf) and with
  one uncontrolled URL per Segment;
- throughput: 32 concurrent clients, each looping for a fixed time, with the CPU the
  load generator, the server and the gateway used meanwhile (on 2 shared cores the
  Python client may be the bottleneck: read ``client_cpu_cores``; ``server`` is the
  tams-server process, PostgreSQL's own CPU is not counted);
- the gateway alone (``tams-server gateway``) in a third process, against the server.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import grpc

from bench._common import flow_with_segments, report, server_process
from bench._measure import (
    CLIENTS,
    Call,
    Http,
    Load,
    Target,
    http_base_url,
    latency,
    load_for,
    percentile,
)  # fmt: skip
from tams.v1 import (
    objects_pb2,
    segments_pb2,
    segments_pb2_grpc,
)

SEGMENTS = 1_000
PAGE = 100


@asynccontextmanager
async def _gateway_process(grpc_target: str) -> AsyncIterator[tuple[str, int]]:
    """``tams-server gateway`` in a child process, calling ``grpc_target``:
    (base URL, pid)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tams_server", "gateway", "--grpc-target", grpc_target,
        "--http-port", "0", "--log-level", "WARNING", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    line = (await process.stdout.readline()).decode()  # "... REST gateway on URL, calling ..."
    try:
        yield line.split(" on ", 1)[1].split(",", 1)[0], process.pid
    finally:
        process.terminate()
        await process.wait()


def _grpc_target(
    name: str, stub: segments_pb2_grpc.SegmentServiceAsyncStub, flow_id: str, *, urls: bool
) -> Target:
    options = objects_pb2.GetUrlOptions(accept_get_urls_set=not urls)  # set + empty: none
    request = segments_pb2.ListSegmentsRequest(
        flow_id=flow_id, page_size=PAGE, get_url_options=options
    )

    async def call() -> None:
        page = await stub.ListSegments(request)
        if len(page.segments) != PAGE or bool(page.segments[0].get_urls) != urls:
            raise RuntimeError(f"{name}: {len(page.segments)} Segments")

    async def connect(stack: AsyncExitStack) -> Call:
        return call  # one channel for every client

    return Target(name, connect)


def _rest_target(name: str, base_url: str, flow_id: str, *, urls: bool) -> Target:
    path = f"/flows/{flow_id}/segments?limit={PAGE}" + ("" if urls else "&accept_get_urls=")

    async def connect(stack: AsyncExitStack) -> Call:
        http = await Http.connect(base_url)
        stack.push_async_callback(http.close)
        page = json.loads(await http.get(path))  # the shape, checked once per connection
        assert len(page) == PAGE, len(page)
        assert ("get_urls" in page[0]) == urls, page[0]

        async def call() -> None:
            await http.get(path)

        return call

    return Target(name, connect)


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    repeats = 5 if tiny else 50 if quick else 300
    seconds, rounds = (0.2, 1) if tiny else (2.0, 1) if quick else (5.0, 3)
    engine = "postgresql" if database_url else "sqlite"
    async with (
        server_process(database_url) as (target, pid),
        _gateway_process(target) as (alone_url, alone_pid),
        grpc.aio.insecure_channel(target) as channel,
    ):
        flow_id = await flow_with_segments(channel, SEGMENTS)
        stub = segments_pb2_grpc.SegmentServiceStub(channel)
        http_url = http_base_url(pid, target)
        rest = _rest_target("rest", http_url, flow_id, urls=False)
        grpc_ = _grpc_target("grpc", stub, flow_id, urls=False)
        alone = _rest_target("gateway_alone", alone_url, flow_id, urls=False)
        times = await latency(
            [
                rest, grpc_, alone,
                _rest_target("rest_urls", http_url, flow_id, urls=True),
                _grpc_target("grpc_urls", stub, flow_id, urls=True),
            ],
            repeats,
        )  # fmt: skip
        medians = {name: statistics.median(samples) for name, samples in times.items()}
        for name, samples in times.items():
            extra = {"get_urls": "one each" if name.endswith("_urls") else "none"}
            report(f"{name}_list_{PAGE}_median_ms", medians[name] * 1000, "ms", engine=engine,
                   repeats=repeats, **extra)  # fmt: skip
            report(f"{name}_list_{PAGE}_p90_ms", percentile(samples, 0.9) * 1000, "ms",
                   engine=engine, repeats=repeats, **extra)  # fmt: skip
        report("rest_over_grpc_median", medians["rest"] / medians["grpc"], "ratio",
               engine=engine, get_urls="none", target="<= 3")  # fmt: skip
        report("rest_over_grpc_median_with_urls", medians["rest_urls"] / medians["grpc_urls"],
               "ratio", engine=engine, get_urls="one each")  # fmt: skip

        server, gateway = {"server": pid}, {"server": pid, "gateway": alone_pid}
        plan = [(rest, server), (grpc_, server), (alone, gateway)]
        loads = {way.name: Load() for way, _ in plan}
        for _ in range(rounds):  # interleaved, as above
            for way, processes in plan:
                await load_for(way, seconds, processes, loads[way.name])
        rates = {name: load.requests / load.wall_s for name, load in loads.items()}
        for name, load in loads.items():
            spent = load.process_cpu_s
            cores = {f"{p}_cpu_cores": round(s / load.wall_s, 2) for p, s in spent.items()}
            report(f"{name}_list_{PAGE}_per_s", rates[name], "requests/s", engine=engine,
                   clients=CLIENTS, seconds=round(load.wall_s, 1),
                   client_cpu_cores=round(load.client_cpu_s / load.wall_s, 2), **cores)  # fmt: skip
            for process, cpu_s in spent.items():
                report(f"{name}_{process}_cpu_ms_per_request", cpu_s / load.requests * 1000,
                       "ms", engine=engine)  # fmt: skip
        report("rest_over_grpc_per_s", rates["rest"] / rates["grpc"], "ratio", engine=engine)
        report("gateway_alone_over_rest_per_s", rates["gateway_alone"] / rates["rest"],
               "ratio", engine=engine)  # fmt: skip
