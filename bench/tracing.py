"""What OpenTelemetry tracing costs: servers with ``--tracing off`` and ``--tracing
otlp`` (exporting to a sink in this process that counts the spans, so that the
export is real), each in its own process, GetFlow over gRPC and ``GET /flows/{id}``
over REST interleaved across them; medians, and on/off ratios.

``BENCH_TRACING_BASELINE=/path/to/checkout`` adds a third server run from another
checkout (one without tracing): off against it shows that tracing off costs nothing.
"""

from __future__ import annotations

import asyncio
import os
import statistics
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from bench._common import flow_with_segments, report, server_process
from bench._measure import Call, Http, Target, http_base_url, latency, percentile
from tams.v1 import flows_pb2, flows_pb2_grpc


class _Sink(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP collector that counts the spans it is sent and drops them."""

    def __init__(self) -> None:
        self.spans = 0
        self.received = asyncio.Event()

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.spans += sum(
            len(scope.spans)
            for resource in request.resource_spans
            for scope in resource.scope_spans
        )
        self.received.set()
        return trace_service_pb2.ExportTraceServiceResponse()


@asynccontextmanager
async def _sink() -> AsyncIterator[tuple[_Sink, int]]:
    sink = _Sink()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(sink, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield sink, port
    finally:
        await server.stop(0)


def _variants(sink_port: int) -> dict[str, dict[str, str]]:
    """Each server's environment: tracing off, tracing to the sink, and (when asked
    for) the baseline checkout."""
    variants = {
        "off": {"TAMS_TRACING": "off"},
        "otlp": {
            "TAMS_TRACING": "otlp",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{sink_port}",
            "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "500",
        },
    }
    baseline = os.environ.get("BENCH_TRACING_BASELINE")
    if baseline:
        paths = [f"{baseline}/{part}" for part in ("generated", "server", "clients", "")]
        variants["baseline"] = {"PYTHONPATH": os.pathsep.join(paths), "TAMS_TRACING": ""}
    return variants


def _grpc_target(name: str, stub: flows_pb2_grpc.FlowServiceStub, flow_id: str) -> Target:
    request = flows_pb2.GetFlowRequest(flow_id=flow_id)

    async def connect(_stack: AsyncExitStack) -> Call:
        async def call() -> None:
            await stub.GetFlow(request)

        return call

    return Target(name, connect)


def _rest_target(name: str, base_url: str, flow_id: str) -> Target:
    async def connect(stack: AsyncExitStack) -> Call:
        http = await Http.connect(base_url)
        stack.push_async_callback(http.close)

        async def call() -> None:
            await http.get(f"/flows/{flow_id}")

        return call

    return Target(name, connect)


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    engine = "postgresql" if database_url else "sqlite"
    repeats = 10 if tiny else 300 if quick else 1500
    async with AsyncExitStack() as stack:
        sink, port = await stack.enter_async_context(_sink())
        targets: list[Target] = []
        for name, env in _variants(port).items():
            target, pid = await stack.enter_async_context(server_process(database_url, env=env))
            channel = await stack.enter_async_context(grpc.aio.insecure_channel(target))
            flow_id = await flow_with_segments(channel, 1)
            targets.append(
                _grpc_target(f"grpc_{name}", flows_pb2_grpc.FlowServiceStub(channel), flow_id)
            )
            targets.append(_rest_target(f"rest_{name}", http_base_url(pid, target), flow_id))
        times = await latency(targets, repeats)
        # Tracing was on: the batch processor sends every 0.5 s.
        await asyncio.wait_for(sink.received.wait(), 30)
    medians = {name: statistics.median(samples) * 1e3 for name, samples in times.items()}
    for name, samples in times.items():
        report(f"tracing_{name}_median_ms", medians[name], "ms", engine=engine,
               p90_ms=round(percentile(samples, 0.9) * 1e3, 3), repeats=repeats)  # fmt: skip
    for transport in ("grpc", "rest"):
        off = medians[f"{transport}_off"]
        report(f"tracing_{transport}_otlp_over_off", medians[f"{transport}_otlp"] / off, "ratio",
               engine=engine, spans_exported=sink.spans)  # fmt: skip
        if f"{transport}_baseline" in medians:
            report(f"tracing_{transport}_off_over_baseline", off / medians[f"{transport}_baseline"],
                   "ratio", engine=engine, target="~1.0")  # fmt: skip
