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

The HTTP client is a minimal one on asyncio streams: httpx spends more CPU per request
than the gateway does (about 2.5 ms here), which would measure the client.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from bench._common import report, server_process, video_flow
from tams.v1 import (
    objects_pb2,
    segments_pb2,
    segments_pb2_grpc,
)

SEGMENTS = 1_000
PAGE = 100
CLIENTS = 32
SEGMENT_NS = 1_920_000_000  # 1.92 s: 48 frames at 25 Hz

Call = Callable[[], Awaitable[None]]


class Http:
    """One keep-alive HTTP/1.1 connection: GET, check for 200, read Content-Length
    bytes. Enough for the gateway's JSON answers, and cheap."""

    _LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def connect(cls, base_url: str) -> Http:
        """A connection to ``http://host:port``."""
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        return cls(*await asyncio.open_connection(host, int(port)))

    async def get(self, path: str) -> bytes:
        """The body of ``GET path``; an error unless the status is 200."""
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        head = await self._reader.readuntil(b"\r\n\r\n")
        length = self._LENGTH.search(head)
        if not head.startswith(b"HTTP/1.1 200 ") or length is None:
            raise RuntimeError(f"unexpected answer: {head[:200]!r}")
        return await self._reader.readexactly(int(length.group(1)))

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


@dataclass(frozen=True)
class Target:
    """One way to ask for the page: a name and a call factory (one call per client;
    its connection, if it has one of its own, closes with the stack)."""

    name: str
    connect: Callable[[AsyncExitStack], Awaitable[Call]]


def _cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _listening_ports(pid: int) -> set[int]:
    """The TCP ports a process listens on (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _http_url(pid: int, grpc_target: str) -> str:
    """The base URL of the server's HTTP side: its listening port that is not gRPC's
    (``server_process`` reports only the gRPC target)."""
    ports = _listening_ports(pid) - {int(grpc_target.rsplit(":", 1)[1])}
    assert len(ports) == 1, ports
    return f"http://127.0.0.1:{ports.pop()}"


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


def _posts(run: str) -> Iterator[segments_pb2.SegmentPost]:
    """Segments of external Objects (an uncontrolled URL each): no upload needed."""
    for i in range(SEGMENTS):
        start, end = i * SEGMENT_NS, (i + 1) * SEGMENT_NS
        object_id = f"gw-{run}-{i:05d}"
        yield segments_pb2.SegmentPost(
            object_id=object_id,
            timerange=f"[{start // 10**9}:{start % 10**9}_{end // 10**9}:{end % 10**9})",
            get_urls=[
                segments_pb2.UncontrolledUrl(url=f"https://media.example/{object_id}", label="cdn")
            ],
        )


async def _flow_with_segments(channel: grpc.aio.Channel) -> str:
    flow_id = await video_flow(channel)
    response = await segments_pb2_grpc.SegmentServiceStub(channel).RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=flow_id, segments=list(_posts(uuid.uuid4().hex[:8]))
        )
    )
    assert response.registered_count == SEGMENTS, response.failed_segments[:2]
    return flow_id


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


def _percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _latency(targets: Sequence[Target], repeats: int) -> dict[str, list[float]]:
    """Seconds of each request, ``repeats`` rounds of one request per target."""
    times: dict[str, list[float]] = {target.name: [] for target in targets}
    async with AsyncExitStack() as stack:
        calls = [await target.connect(stack) for target in targets]
        for _ in range(10):  # warm-up
            for call in calls:
                await call()
        for _ in range(repeats):
            for target, call in zip(targets, calls, strict=True):
                t0 = time.perf_counter()
                await call()
                times[target.name].append(time.perf_counter() - t0)
    return times


@dataclass
class Load:
    """What a throughput run did and cost."""

    requests: int = 0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    process_cpu_s: dict[str, float] = field(default_factory=dict)


async def _load(target: Target, seconds: float, processes: dict[str, int], load: Load) -> None:
    """``CLIENTS`` concurrent clients asking for the page for ``seconds``; adds to
    ``load``. Connections are opened afresh (the server drops idle ones after 5 s)."""
    counts = [0] * CLIENTS
    async with AsyncExitStack() as stack:
        calls = [await target.connect(stack) for _ in range(CLIENTS)]
        await asyncio.gather(*(call() for call in calls))  # warm-up
        cpu_before = {name: _cpu_s(pid) for name, pid in processes.items()}
        client_before = time.process_time()
        t0 = time.perf_counter()
        stop_at = t0 + seconds

        async def client(index: int, call: Call) -> None:
            while time.perf_counter() < stop_at:
                await call()
                counts[index] += 1

        await asyncio.gather(*(client(i, call) for i, call in enumerate(calls)))
        load.wall_s += time.perf_counter() - t0
        load.client_cpu_s += time.process_time() - client_before
        for name, pid in processes.items():
            spent = _cpu_s(pid) - cpu_before[name]
            load.process_cpu_s[name] = load.process_cpu_s.get(name, 0.0) + spent
    load.requests += sum(counts)


async def run(*, quick: bool, database_url: str | None) -> None:
    repeats = 50 if quick else 300
    seconds, rounds = (2.0, 1) if quick else (5.0, 3)
    engine = "postgresql" if database_url else "sqlite"
    async with (
        server_process(database_url) as (target, pid),
        _gateway_process(target) as (alone_url, alone_pid),
        grpc.aio.insecure_channel(target) as channel,
    ):
        flow_id = await _flow_with_segments(channel)
        stub = segments_pb2_grpc.SegmentServiceStub(channel)
        http_url = _http_url(pid, target)
        rest = _rest_target("rest", http_url, flow_id, urls=False)
        grpc_ = _grpc_target("grpc", stub, flow_id, urls=False)
        alone = _rest_target("gateway_alone", alone_url, flow_id, urls=False)
        times = await _latency(
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
            report(f"{name}_list_{PAGE}_p90_ms", _percentile(samples, 0.9) * 1000, "ms",
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
                await _load(way, seconds, processes, loads[way.name])
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
