"""On SQLite, a commit in one process of ``serve --processes N`` wakes the event
readers (WatchEvents, webhook delivery) of every process.

PostgreSQL needs none of this: the committing transaction's NOTIFY reaches every
process's listener. SQLite has no such channel, and the readers' polling fallback
(``Config.event_poll_s``, a second) would be the only way a watcher in one process
heard of a commit in another. Each process binds a Unix datagram socket in the run
folder; a commit wakes this process's readers and sends one byte to each sibling's
socket, whose reader wakes its own. A send that finds the sibling's queue full is
dropped: a wake-up is already waiting there. A sibling that is gone is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tams_server.store.outbox import Wakeups


class SiblingWakeups:
    """Wakes this process's readers and, through their sockets, the siblings'."""

    def __init__(self, local: Wakeups, sock: socket.socket, siblings: list[str]) -> None:
        self._local = local
        self._sock = sock
        self._siblings = siblings

    def wake(self) -> None:
        """A commit here: wake the readers of every process."""
        self._local.wake()
        for path in self._siblings:
            # Full queue: a wake-up is pending there already; gone: nothing to wake.
            with contextlib.suppress(BlockingIOError, FileNotFoundError, ConnectionRefusedError):
                self._sock.sendto(b"\0", path)

    def heard(self) -> None:
        """Datagrams from siblings: read them all, wake this process's readers once."""
        with contextlib.suppress(BlockingIOError):
            while self._sock.recv(64):
                pass
        self._local.wake()


def socket_path(folder: Path, index: int) -> str:
    """Where sibling ``index`` listens for wake-ups."""
    return str(folder / f"{index}.sock")


@asynccontextmanager
async def sibling_wakeups(
    local: Wakeups, folder: Path, index: int, count: int
) -> AsyncIterator[SiblingWakeups]:
    """The wake-ups of sibling ``index`` of ``count``, listening on its socket in
    ``folder`` (which the parent made, and removes) until the block ends."""
    path = socket_path(folder, index)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(path)
        sock.setblocking(False)
        others = [socket_path(folder, i) for i in range(count) if i != index]
        wakeups = SiblingWakeups(local, sock, others)
        loop = asyncio.get_running_loop()
        loop.add_reader(sock.fileno(), wakeups.heard)
        try:
            yield wakeups
        finally:
            loop.remove_reader(sock.fileno())
    finally:
        sock.close()
