"""Measuring tools the benchmarks share: a minimal HTTP client, latency rounds of
interleaved targets, throughput of concurrent clients with the CPU each process used.

The HTTP client is a minimal one on asyncio streams: httpx spends more CPU per request
than the gateway does (about 2.5 ms here), which would measure the client.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

CLIENTS = 32

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

    async def get(self, path: str, *, authorization: str | None = None) -> bytes:
        """The body of ``GET path`` (with an ``Authorization`` header if given); an
        error unless the status is 200."""
        header = f"Authorization: {authorization}\r\n" if authorization else ""
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{header}\r\n".encode())
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


def cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> float:
    """CPU seconds a process and its children (``serve --processes``) have used so far."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_s(pid) + sum(cpu_s(int(child)) for child in children)


def listening_ports(pid: int) -> set[int]:
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


def http_base_url(pid: int, grpc_target: str) -> str:
    """The base URL of the server's HTTP side: its listening port that is not gRPC's
    (``server_process`` reports only the gRPC target)."""
    ports = listening_ports(pid) - {int(grpc_target.rsplit(":", 1)[1])}
    assert len(ports) == 1, ports
    return f"http://127.0.0.1:{ports.pop()}"


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def latency(targets: Sequence[Target], repeats: int) -> dict[str, list[float]]:
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


async def load_for(target: Target, seconds: float, processes: dict[str, int], load: Load) -> None:
    """``CLIENTS`` concurrent clients asking for the page for ``seconds``; adds to
    ``load``. Connections are opened afresh (the server drops idle ones after 5 s)."""
    counts = [0] * CLIENTS
    async with AsyncExitStack() as stack:
        calls = [await target.connect(stack) for _ in range(CLIENTS)]
        await asyncio.gather(*(call() for call in calls))  # warm-up
        cpu_before = {name: cpu_s(pid) for name, pid in processes.items()}
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
            spent = cpu_s(pid) - cpu_before[name]
            load.process_cpu_s[name] = load.process_cpu_s.get(name, 0.0) + spent
    load.requests += sum(counts)
