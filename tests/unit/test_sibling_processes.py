"""The pieces ``serve --processes`` shares between its processes, each tested alone:
the reserved gRPC port and the wake-ups of event readers across processes (here two
"siblings" in one event loop, each with its own socket, as two processes have)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tams_server.config.errors import ConfigError
from tams_server.processes.ports import reserve_port
from tams_server.processes.wakeups import sibling_wakeups
from tams_server.store.outbox import Wakeups


def test_a_reserved_port_is_shared_by_reuseport_binds_only() -> None:
    held, port = reserve_port("127.0.0.1", 0)
    with held:
        assert port > 0
        with socket.socket() as sibling:  # as a child's gRPC server binds it
            sibling.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sibling.bind(("127.0.0.1", port))
            sibling.listen()
        with socket.socket() as stranger, pytest.raises(OSError, match="in use"):
            stranger.bind(("127.0.0.1", port))


def test_a_taken_port_is_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"--grpc-port {port} on 127.0.0.1"):
            reserve_port("127.0.0.1", port)
    # Another server's reserved port too: SO_REUSEPORT must not make them share it.
    held, port = reserve_port("127.0.0.1", 0)
    with held, pytest.raises(ConfigError, match=f"--grpc-port {port}"):
        reserve_port("127.0.0.1", port)


def test_an_unknown_host_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"--grpc-host 'no-such-host\.invalid'"):
        reserve_port("no-such-host.invalid", 0)


async def test_a_commit_in_one_process_wakes_the_readers_of_all(tmp_path: Path) -> None:
    here, there, third = Wakeups(), Wakeups(), Wakeups()
    async with (
        sibling_wakeups(here, tmp_path, 0, 3) as waking,
        sibling_wakeups(there, tmp_path, 1, 3),
        sibling_wakeups(third, tmp_path, 2, 3),
    ):
        waiters = [here.waiter(), there.waiter(), third.waiter()]
        waking.wake()
        assert waiters[0].is_set()  # this process's readers: at once
        async with asyncio.timeout(10):  # the others: when their loop reads the socket
            await asyncio.gather(waiters[1].wait(), waiters[2].wait())
        # Many commits before a sibling reads: its queue fills, the extra wake-ups drop.
        for _ in range(10_000):
            waking.wake()
        async with asyncio.timeout(10):
            await there.waiter().wait()


async def test_a_sibling_that_is_gone_is_skipped(tmp_path: Path) -> None:
    here = Wakeups()
    async with sibling_wakeups(here, tmp_path, 0, 2) as waking:
        async with sibling_wakeups(Wakeups(), tmp_path, 1, 2):
            pass  # its socket is closed now (the file stays: refused)
        waiter = here.waiter()
        waking.wake()  # neither raises nor blocks
        assert waiter.is_set()
