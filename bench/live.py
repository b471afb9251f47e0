"""Live ingest: N encoders, each registering one Segment a second on its own Flow.

Each Flow is an asyncio task with its own schedule (a random start within the first
second, then one unary RegisterSegments a second, as a live encoder sends them). N
ramps up (10, 25, 50, 100, 200, ...); for each step: p50/p99 registration latency, and how
many calls missed their schedule (finished after the next Segment was due, so that a
real encoder would have fallen behind), with the CPU the server and this client used
(a client near 100% measures itself). Reports the highest N whose p99 stayed under
100 ms with no missed deadline. The ramp stops after a step far past that (p99 over
a second, or one call in ten late). The server runs in its own process.
"""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass

import grpc

from bench._common import report, server_process, video_flow_message
from bench._measure import cpu_s, percentile
from tams.v1 import flows_pb2, flows_pb2_grpc, segments_pb2, segments_pb2_grpc

PERIOD_S = 1.0
# Channels the encoders share, round robin (an encoder each would be one connection
# each: too many sockets and threads for one client process at the top steps).
CHANNELS = 16
P99_LIMIT_MS = 100.0


@dataclass(frozen=True)
class Ramp:
    steps: tuple[int, ...]
    seconds: int  # Segments each Flow registers per step


FULL = Ramp(steps=(10, 25, 50, 100, 200, 400, 800, 1600, 3200), seconds=30)
QUICK = Ramp(steps=(10, 25, 50, 100, 200, 400, 800, 1600), seconds=15)
TINY = Ramp(steps=(5, 10), seconds=3)


@dataclass
class Step:
    """What one step of the ramp measured."""

    flows: int
    latencies: list[float]
    missed: int = 0


class Encoder:
    """One live Flow: its id, its channel, the next slot of its timeline."""

    def __init__(self, index: int, flow_id: str, stub: segments_pb2_grpc.SegmentServiceStub):
        self.index, self.flow_id, self.stub = index, flow_id, stub
        self.slot = 0

    def _request(self) -> segments_pb2.RegisterSegmentsRequest:
        object_id = f"live-{self.index}-{self.slot}"
        post = segments_pb2.SegmentPost(
            object_id=object_id,
            timerange=f"[{self.slot}:0_{self.slot + 1}:0)",
            get_urls=[
                segments_pb2.UncontrolledUrl(url=f"https://media.example/{object_id}", label="cdn")
            ],
        )
        self.slot += 1
        return segments_pb2.RegisterSegmentsRequest(flow_id=self.flow_id, segments=[post])

    async def run(self, started: float, segments: int, step: Step) -> None:
        """Register ``segments`` Segments, one a period from a random offset on."""
        offset = started + random.uniform(0, PERIOD_S)
        for k in range(segments):
            due = offset + k * PERIOD_S
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            t0 = time.perf_counter()
            response = await self.stub.RegisterSegments(self._request())
            done = time.perf_counter()
            assert response.registered_count == 1, response.failed_segments
            step.latencies.append(done - t0)
            if done > due + PERIOD_S:
                step.missed += 1


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    ramp = TINY if tiny else QUICK if quick else FULL
    engine = "postgresql" if database_url else "sqlite"
    async with server_process(database_url) as (target, pid), AsyncExitStack() as stack:
        channels = [
            await stack.enter_async_context(grpc.aio.insecure_channel(target))
            for _ in range(CHANNELS)
        ]
        flows = flows_pb2_grpc.FlowServiceStub(channels[0])
        encoders: list[Encoder] = []
        while len(encoders) < max(ramp.steps):
            batch = [
                video_flow_message() for _ in range(min(1000, max(ramp.steps) - len(encoders)))
            ]
            await flows.BatchCreateFlows(flows_pb2.BatchCreateFlowsRequest(flows=batch))
            for flow in batch:
                stub = segments_pb2_grpc.SegmentServiceStub(channels[len(encoders) % CHANNELS])
                encoders.append(Encoder(len(encoders), flow.id, stub))

        best = 0
        for n in ramp.steps:
            step = Step(flows=n, latencies=[])
            server_before, client_before = cpu_s(pid), time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(e.run(started, ramp.seconds, step) for e in encoders[:n]))
            wall = time.perf_counter() - started
            server_cpu = cpu_s(pid) - server_before
            p50 = percentile(step.latencies, 0.5) * 1e3
            p99 = percentile(step.latencies, 0.99) * 1e3
            report("live_register_p99_ms", p99, "ms", engine=engine, flows=n,
                   p50_ms=round(p50, 3), calls=len(step.latencies), missed=step.missed,
                   calls_per_s=round(len(step.latencies) / wall, 1),
                   server_cpu=round(server_cpu / wall, 3),
                   server_cpu_ms_per_call=round(server_cpu / len(step.latencies) * 1e3, 3),
                   client_cpu=round((time.process_time() - client_before) / wall, 3))  # fmt: skip
            if p99 < P99_LIMIT_MS and step.missed == 0:
                best = n
            if p99 > 1000 or step.missed * 10 > len(step.latencies):
                break
        report("live_max_flows_p99_under_100ms", best, "flows", engine=engine,
               steps=list(ramp.steps), seconds_per_step=ramp.seconds)  # fmt: skip
