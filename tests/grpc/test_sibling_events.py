"""Two servers as siblings of ``serve --processes`` (``app.serve(..., siblings=...)``),
in this process on one database, with the watchers' polling fallback out of the way
(``event_poll_s`` of an hour): a watcher on one hears a change committed through the
other only if the commit wakes it, by a datagram between the siblings on SQLite, by
PostgreSQL's NOTIFY on PostgreSQL. (``tests/deploy/test_processes.py`` runs the real
thing, forked processes on one port, where a connection's process is the kernel's
choice.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import grpc

from helpers.events import create_flow_heard_across
from tams_server.app import RunningServer, serve
from tams_server.config import Config
from tams_server.http.server import bind
from tams_server.processes.siblings import Siblings

NO_POLLING_S = 3600.0


@asynccontextmanager
async def sibling(
    index: int, database_url: str, run_dir: Path, data_dir: Path
) -> AsyncIterator[RunningServer]:
    """Sibling ``index`` of two, on its own gRPC port (so the test picks whom it calls)."""
    sock, url = bind("127.0.0.1", 0)
    siblings = Siblings(index, 2, sock, url, run_dir, ready_fd=-1)
    config = Config(
        grpc_port=0, http_port=0, data_dir=data_dir, database_url=database_url,
        shutdown_grace_s=1.0, run_workers=False, metrics="off", event_poll_s=NO_POLLING_S,
        migrate_on_start=False,
    )  # fmt: skip
    async with serve(config, siblings=siblings) as running:
        yield running


async def test_a_commit_through_one_sibling_wakes_a_watcher_on_the_other(
    database_url: str, data_dir: Path, tmp_path: Path, running: RunningServer
) -> None:
    (tmp_path / "wakeups").mkdir()
    async with AsyncExitStack() as stack:
        a, b = [
            await stack.enter_async_context(sibling(i, database_url, tmp_path, data_dir))
            for i in range(2)
        ]
        a_channel = await stack.enter_async_context(grpc.aio.insecure_channel(a.grpc_target))
        b_channel = await stack.enter_async_context(grpc.aio.insecure_channel(b.grpc_target))
        # Far below the hour of polling: the wake-up came from the sibling.
        await create_flow_heard_across(a_channel, b_channel, timeout_s=30)
