"""Unary latency, what internal services feel on every call.

- medians (and p90) from a grpc.aio client of GetFlow, a 1-Segment and a 100-Segment
  ListSegments page, interleaved with the server's own health check, the server in its
  own process; GetFlow as a ratio to the health check;
- the cost of each interceptor: servers in this process alike but for one interceptor
  made transparent, GetFlow medians interleaved across them, each against the server
  with all of them (and one with none);
- 64 concurrent clients calling GetFlow: calls per second, errors, p50/p99, and the CPU
  the server process used per call; ``processes=1`` as ever (the 8 channels share one
  connection: gRPC pools a process's subchannels), then with a connection per client
  against the same server, and against ``serve --processes 2`` (the kernel spreads
  connections, not calls, over the processes), all interleaved round by round.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench._common import flow_with_segments, report, server, server_process
from bench._measure import Call, Target, latency, percentile, tree_cpu_s
from tams.v1 import flows_pb2, flows_pb2_grpc, segments_pb2, segments_pb2_grpc
from tams_server import app

CLIENTS = 64
CHANNELS = 8
# The interceptors ``app.serve`` builds, by the names it builds them with (those this
# version has: MetricsInterceptor comes with the metrics work).
_KNOWN = ("MetricsInterceptor", "RequestLogInterceptor", "ErrorStatusInterceptor",
          "AuthInterceptor", "ScopeInterceptor")  # fmt: skip
INTERCEPTORS = tuple(name for name in _KNOWN if hasattr(app, name))


def _ms(samples: list[float], fraction: float = 0.5) -> float:
    return (statistics.median(samples) if fraction == 0.5 else percentile(samples, fraction)) * 1e3


def _targets(channel: grpc.aio.Channel, flow_id: str) -> list[Target]:
    """Health check, GetFlow, 1- and 100-Segment pages, all on one channel."""
    health = health_pb2_grpc.HealthStub(channel)
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    segments = segments_pb2_grpc.SegmentServiceStub(channel)

    def target(name: str, call: Call) -> Target:
        async def connect(_stack: AsyncExitStack) -> Call:
            return call

        return Target(name, connect)

    async def check() -> None:
        await health.Check(health_pb2.HealthCheckRequest())

    async def get_flow() -> None:
        await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id))

    def page(size: int) -> Call:
        request = segments_pb2.ListSegmentsRequest(flow_id=flow_id, page_size=size)

        async def list_page() -> None:
            response = await segments.ListSegments(request)
            assert len(response.segments) == size

        return list_page

    return [
        target("health_check", check),
        target("get_flow", get_flow),
        target("list_segments_1", page(1)),
        target("list_segments_100", page(100)),
    ]


async def _latencies(target: str, engine: str, repeats: int) -> str:
    async with grpc.aio.insecure_channel(target) as channel:
        flow_id = await flow_with_segments(channel, 100)
        times = await latency(_targets(channel, flow_id), repeats)
    for name, samples in times.items():
        report(f"{name}_median_ms", _ms(samples), "ms", engine=engine,
               p90_ms=round(_ms(samples, 0.9), 3), repeats=repeats)  # fmt: skip
    report("get_flow_over_health_check", _ms(times["get_flow"]) / _ms(times["health_check"]),
           "ratio", engine=engine, target="<= 1.6, get_flow <= 3 ms")  # fmt: skip
    return flow_id


# Each channel on a connection of its own (by default a process's channels to one
# target share one): a channel, and a connection, per client, as 64 separate clients
# would have; with few connections the kernel's spread over processes is uneven.
OWN_CONNECTION = (("grpc.use_local_subchannel_pool", 1),)


@dataclass(frozen=True)
class _Server:
    """A server process to measure and what it serves."""

    target: str
    pid: int
    flow_id: str
    processes: int


async def _concurrent(
    server: _Server, engine: str, seconds: float, *, own_connections: bool
) -> dict[str, Any]:
    """``CLIENTS`` tasks over ``CHANNELS`` channels calling GetFlow for ``seconds``: the
    figure's fields."""
    options = OWN_CONNECTION if own_connections else ()
    count = CLIENTS if own_connections else CHANNELS
    async with AsyncExitStack() as stack:
        channels = [
            await stack.enter_async_context(grpc.aio.insecure_channel(server.target, options))
            for _ in range(count)
        ]
        stubs = [flows_pb2_grpc.FlowServiceStub(channel) for channel in channels]
        request = flows_pb2.GetFlowRequest(flow_id=server.flow_id)
        await asyncio.gather(*(stub.GetFlow(request) for stub in stubs))  # warm-up
        times: list[float] = []
        errors = 0
        stop_at = time.perf_counter() + seconds

        async def client(stub: flows_pb2_grpc.FlowServiceStub) -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                try:
                    await stub.GetFlow(request)
                except grpc.RpcError:
                    errors += 1
                    continue
                times.append(time.perf_counter() - t0)

        server_before, client_before = tree_cpu_s(server.pid), time.process_time()
        t0 = time.perf_counter()
        await asyncio.gather(*(client(stubs[i % count]) for i in range(CLIENTS)))
        wall = time.perf_counter() - t0
        server_cpu = tree_cpu_s(server.pid) - server_before
        client_cpu = time.process_time() - client_before
    return {
        "value": len(times) / wall, "engine": engine, "processes": server.processes,
        "connections": count if own_connections else 1, "errors": errors,
        "p50_ms": round(_ms(times), 3), "p99_ms": round(_ms(times, 0.99), 3),
        "server_cpu_ms_per_call": round(server_cpu / max(len(times), 1) * 1e3, 3),
        "client_cpu_share": round(client_cpu / wall, 2),
    }  # fmt: skip


async def _throughputs(servers: list[_Server], engine: str, seconds: float, rounds: int) -> None:
    """The 64-client figure of each server (the first also on one shared connection),
    round after round so that the machine's noise falls on all alike; reported per
    variant: the round with the median calls/s."""
    variants = [(servers[0], False)] + [(server, True) for server in servers]
    results: list[list[dict[str, Any]]] = [[] for _ in variants]
    for _ in range(rounds):
        for i, (measured, own) in enumerate(variants):
            results[i].append(await _concurrent(measured, engine, seconds, own_connections=own))
    for runs in results:
        median = sorted(runs, key=lambda run: run["value"])[len(runs) // 2]
        value = median.pop("value")
        report("get_flow_64_clients_per_s", value, "calls/s", **median, rounds=rounds,
               target=">= 1000, no errors")  # fmt: skip


class _Transparent(grpc.aio.ServerInterceptor):
    """Stands in for a removed interceptor: passes every call through."""

    def __init__(self, *_args: Any) -> None:
        pass

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Any],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        return await continuation(handler_call_details)


@contextmanager
def _without(names: tuple[str, ...]) -> Iterator[None]:
    """``app.serve`` builds the interceptors ``names`` as transparent ones."""
    saved = {name: getattr(app, name) for name in names}
    for name in names:
        setattr(app, name, _Transparent)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(app, name, value)


@asynccontextmanager
async def _variant(database_url: str | None, removed: tuple[str, ...]) -> AsyncIterator[Call]:
    """A server without the ``removed`` interceptors, and a GetFlow call to it."""
    async with AsyncExitStack() as stack:
        with _without(removed):  # the interceptors are built as the server starts
            running = await stack.enter_async_context(server(database_url))
        channel = await stack.enter_async_context(grpc.aio.insecure_channel(running.grpc_target))
        flow_id = await flow_with_segments(channel, 1)
        stub = flows_pb2_grpc.FlowServiceStub(channel)
        request = flows_pb2.GetFlowRequest(flow_id=flow_id)

        async def get_flow() -> None:
            await stub.GetFlow(request)

        yield get_flow


async def _interceptor_costs(database_url: str | None, engine: str, repeats: int) -> None:
    variants = {"all": (), "none": INTERCEPTORS} | {
        f"without_{name}": (name,) for name in INTERCEPTORS
    }
    async with AsyncExitStack() as stack:
        calls = {
            name: await stack.enter_async_context(_variant(database_url, removed))
            for name, removed in variants.items()
        }
        targets = [Target(name, _given(call)) for name, call in calls.items()]
        times = await latency(targets, repeats)
    full = _ms(times["all"])
    report("in_process_get_flow_median_ms", full, "ms", engine=engine,
           without_interceptors_ms=round(_ms(times["none"]), 3))  # fmt: skip
    report("interceptors_cost_ms", full - _ms(times["none"]), "ms", engine=engine)
    for name in INTERCEPTORS:
        report("interceptor_cost_ms", full - _ms(times[f"without_{name}"]), "ms",
               engine=engine, interceptor=name)  # fmt: skip


def _given(call: Call) -> Callable[[AsyncExitStack], Any]:
    async def connect(_stack: AsyncExitStack) -> Call:
        return call

    return connect


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    engine = "postgresql" if database_url else "sqlite"
    repeats = 10 if tiny else 200 if quick else 1000
    seconds, rounds = (0.5, 1) if tiny else (3.0, 2) if quick else (10.0, 3)
    async with AsyncExitStack() as stack:
        servers = []
        for processes in (1, 2):
            target, pid = await stack.enter_async_context(
                server_process(database_url, processes=processes)
            )
            if processes == 1:
                flow_id = await _latencies(target, engine, repeats)
            else:
                async with grpc.aio.insecure_channel(target) as channel:
                    flow_id = await flow_with_segments(channel, 100)
            servers.append(_Server(target, pid, flow_id, processes))
        await _throughputs(servers, engine, seconds, rounds)
    await _interceptor_costs(database_url, engine, repeats)
