"""``tams-server serve --processes N`` run as a deployment runs it: a subprocess of the
real command line, called over real gRPC and HTTP, its log read for the pid of the
process that served each call."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from tams.v1 import service_info_pb2, service_info_pb2_grpc

WAIT_S = 60
# "<time> [<pid>] tams_server.rpc {json}": the line each RPC logs, from some process.
_RPC_LINE = re.compile(r"\[(\d+)\] tams_server\.rpc (\{.*\})$")
_HTTP_LINE = re.compile(r"HTTP \(REST gateway, local objects\) on (\S+)$")


@dataclass
class Served:
    """A running ``serve --processes`` parent and what it said."""

    process: asyncio.subprocess.Process
    target: str
    http_url: str
    log: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def children(self) -> set[int]:
        """The pids of the parent's child processes (Linux /proc)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return {int(pid) for pid in path.read_text().split()}

    def rpc_lines(self) -> list[tuple[int, dict[str, object]]]:
        """(pid, fields) of each RPC logged so far."""
        found = []
        for line in self.log:
            match = _RPC_LINE.search(line.rstrip())
            if match:
                found.append((int(match[1]), json.loads(match[2])))
        return found

    async def pid_of(self, channel: grpc.aio.Channel) -> int:
        """The pid of the process serving ``channel`` (its connection), read from the
        log line of a call that carries a request id of its own."""
        rid = uuid.uuid4().hex
        await service_info_pb2_grpc.ServiceInfoServiceStub(channel).GetService(
            service_info_pb2.GetServiceRequest(), metadata=(("x-request-id", rid),)
        )
        async with asyncio.timeout(WAIT_S):
            while True:
                for pid, fields in self.rpc_lines():
                    if fields.get("request_id") == rid:
                        return pid
                await asyncio.sleep(0.02)


async def _keep(stream: asyncio.StreamReader, lines: list[str]) -> None:
    while line := await stream.readline():
        lines.append(line.decode(errors="replace"))


@asynccontextmanager
async def serve_processes(
    data_dir: Path, database_url: str, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[Served]:
    """``tams-server serve --processes 2`` (unless ``args`` say otherwise) on free ports,
    logging each RPC; SIGTERM at the end, if it still runs."""
    command = [
        sys.executable, "-m", "tams_server", "serve", "--grpc-port", "0", "--http-port", "0",
        "--data-dir", str(data_dir), "--database-url", database_url, "--log-level", "INFO",
        "--shutdown-grace", "2", *(args or ("--processes", "2")),
    ]  # fmt: skip
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    process = await asyncio.create_subprocess_exec(
        *command, env={**inherited, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    log: list[str] = []
    reader = asyncio.create_task(_keep(process.stderr, log))
    try:
        async with asyncio.timeout(WAIT_S):
            line = (await process.stdout.readline()).decode()
            assert line.startswith("tams-server: gRPC on "), (line, log)
            while not (urls := [m[1] for m in map(_HTTP_LINE.search, log) if m]):  # noqa: ASYNC110 - the log is the witness
                await asyncio.sleep(0.02)
        yield Served(process, line.rsplit(" ", 1)[1].strip(), urls[0], log, reader)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        await reader
