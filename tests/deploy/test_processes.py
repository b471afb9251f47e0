"""``tams-server serve --processes 2``, run as a subprocess of the real command line
and called over real gRPC and HTTP, on an empty database of each engine:

- calls over many connections all succeed, are served by both children (the pid in
  each RPC's log line), and read what was written through the other process;
- ``/metrics``, whichever process answers, counts the calls of both;
- a watcher on one process hears a change committed through the other;
- SIGTERM stops the parent and its children, exit 0; a child killed makes the parent
  stop the other and exit non-zero; a taken port stops it before any fork;
- ``--processes 1`` forks nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers.databases import empty_database
from helpers.events import create_flow_heard_across
from helpers.factories import video_flow
from helpers.processes import WAIT_S, Served, serve_processes
from tams.v1 import (
    flows_pb2,
    flows_pb2_grpc,
    service_info_pb2,
    service_info_pb2_grpc,
)

CHANNELS = 12
# Channels to one target share one connection unless each keeps its own subchannels:
# the kernel spreads connections, not channels, over the processes.
OWN_CONNECTION = (("grpc.use_local_subchannel_pool", 1),)


@pytest.fixture
async def fresh_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(database_url, tmp_path) as url:
        yield url


async def one_channel_per_child(
    served: Served, stack: AsyncExitStack
) -> dict[int, grpc.aio.Channel]:
    """A channel (its own connection) to each child: new channels until the kernel has
    given each child one (each connection lands on either with even odds)."""
    children = served.children()
    found: dict[int, grpc.aio.Channel] = {}
    for _ in range(100):
        channel = await stack.enter_async_context(
            grpc.aio.insecure_channel(served.target, options=OWN_CONNECTION)
        )
        found.setdefault(await served.pid_of(channel), channel)
        if set(found) == children:
            return found
    raise AssertionError(f"connections reached only {set(found)} of {children}")


def handled(text: str, method: str) -> float:
    """``grpc_server_handled_total`` of ``method`` with status OK, in a scrape."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "grpc_server_handled_total"
                and sample.labels.get("grpc_method") == method
                and sample.labels.get("grpc_code") == "OK"
            ):
                total += sample.value
    return total


async def test_calls_reach_both_processes_read_each_others_writes_and_count_together(
    fresh_url: str, tmp_path: Path
) -> None:
    async with serve_processes(tmp_path / "data", fresh_url) as served, AsyncExitStack() as stack:
        children = served.children()
        assert len(children) == 2
        assert served.pid not in children
        pinned = await one_channel_per_child(served, stack)
        channels = list(pinned.values()) + [
            await stack.enter_async_context(
                grpc.aio.insecure_channel(served.target, options=OWN_CONNECTION)
            )
            for _ in range(CHANNELS - len(pinned))
        ]
        stubs = [flows_pb2_grpc.FlowServiceStub(channel) for channel in channels]
        flows = [video_flow() for _ in stubs]
        await asyncio.gather(*(
            stub.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
            for stub, flow in zip(stubs, flows, strict=True)
        ))  # fmt: skip
        # Every flow read through every connection: each process reads what the other wrote.
        answers = await asyncio.gather(*(
            stub.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id))
            for stub in stubs for flow in flows
        ))  # fmt: skip
        assert [a.flow.id for a in answers] == [f.id for _ in stubs for f in flows]
        get_flows = [pid for pid, line in served.rpc_lines() if line["method"].endswith("GetFlow")]
        assert len(get_flows) == len(answers)
        assert set(get_flows) == children  # served by both processes
        # Each scrape (a new connection, answered by either process) counts them all.
        for _ in range(4):
            async with httpx.AsyncClient() as http:
                scraped = await http.get(f"{served.http_url}/metrics")
            assert scraped.status_code == 200
            assert handled(scraped.text, "GetFlow") == len(answers)


async def test_a_watcher_hears_a_change_committed_through_the_other_process(
    fresh_url: str, tmp_path: Path
) -> None:
    async with serve_processes(tmp_path / "data", fresh_url) as served, AsyncExitStack() as stack:
        (a, a_channel), (b, b_channel) = (await one_channel_per_child(served, stack)).items()
        assert a != b
        await create_flow_heard_across(a_channel, b_channel, timeout_s=WAIT_S)
        created = [pid for pid, line in served.rpc_lines() if line["method"].endswith("CreateFlow")]
        assert created == [a]  # committed on A, heard on B (the watch's connection)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
async def test_a_signal_stops_the_parent_and_its_children_cleanly(
    signum: signal.Signals, fresh_url: str, tmp_path: Path
) -> None:
    async with serve_processes(tmp_path / "data", fresh_url) as served:
        children = served.children()
        served.process.send_signal(signum)
        async with asyncio.timeout(WAIT_S):
            assert await served.process.wait() == 0
    assert len(children) == 2
    assert all(gone(pid) for pid in children)
    log = "".join(served.log)
    assert log.count("shutting down: health NOT_SERVING") == 2  # each child, gracefully
    assert "ended with" not in log


async def test_a_child_killed_stops_the_other_and_the_parent_fails(
    fresh_url: str, tmp_path: Path
) -> None:
    async with serve_processes(tmp_path / "data", fresh_url) as served:
        victim, other = sorted(served.children())
        os.kill(victim, signal.SIGKILL)
        async with asyncio.timeout(WAIT_S):
            assert await served.process.wait() != 0
    assert gone(victim)
    assert gone(other)
    log = "".join(served.log)
    assert f"process {victim} " in log
    assert "ended with signal 9: stopping the others" in log


async def test_one_process_forks_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"
    async with serve_processes(tmp_path / "data", url, "--processes", "1") as served:
        assert served.children() == set()
        async with grpc.aio.insecure_channel(served.target) as channel:
            await service_info_pb2_grpc.ServiceInfoServiceStub(channel).GetService(
                service_info_pb2.GetServiceRequest()
            )
        served.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT_S):
            assert await served.process.wait() == 0
    # Logged as ever: no process id in the lines.
    assert any(" tams_server.rpc {" in line for line in served.log)
    assert served.rpc_lines() == []


@pytest.mark.parametrize("flag", ["--grpc-port", "--http-port"])
async def test_a_taken_port_stops_it_before_any_fork(flag: str, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        ports = {"--grpc-port": "0", "--http-port": "0", flag: str(port)}
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tams_server", "serve", "--processes", "2"),
            *(item for pair in ports.items() for item in pair), "--data-dir", str(tmp_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(WAIT_S):
            out, err = await process.communicate()
    assert process.returncode == 2
    assert out == b""
    assert f"error: {flag} {port} on 127.0.0.1: Address already in use" in err.decode()
    assert "gRPC listening" not in err.decode()  # no child started


async def test_children_that_cannot_start_stop_the_parent(tmp_path: Path) -> None:
    # Nothing listens on port 1: each child fails on its first statement.
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tams_server", "serve", "--processes", "2"),
        *("--grpc-port", "0", "--http-port", "0", "--data-dir", str(tmp_path)),
        *("--database-url", "postgresql+asyncpg://postgres@127.0.0.1:1/none"),
        *("--migrate-on-start", "false"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(WAIT_S):
        out, err = await process.communicate()
    assert process.returncode == 1
    assert out == b""  # never announced a target
    assert "ended with status 1: stopping the others" in err.decode()
    assert "Connect call failed" in err.decode() or "Connection refused" in err.decode()
