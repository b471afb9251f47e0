"""What one process of ``serve --processes N`` shares with the others: set up by the
parent before it forked, handed to ``app.serve`` in each child."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Siblings:
    """This process's place among its siblings.

    Every sibling serves gRPC on the shared port and HTTP on the shared socket; the
    first (``index`` 0) alone runs the background workers (``supervisor`` says why).
    """

    index: int
    """0 to ``count - 1``, in the order of the fork."""
    count: int
    """How many processes serve (N of ``--processes``)."""
    http_socket: socket.socket
    """The HTTP side's listening socket, bound by the parent: every sibling accepts
    on it (one port, and a base URL of local objects that all of them sign)."""
    http_url: str
    """Base URL of ``http_socket``."""
    run_dir: Path
    """The parent's folder for this run (it removes it at the end)."""
    ready_fd: int
    """Write end of the pipe on which each child says it serves."""

    @property
    def metrics_dir(self) -> Path:
        """Prometheus' multiprocess files: every process's counters."""
        return self.run_dir / "metrics"

    @property
    def wakeups_dir(self) -> Path:
        """The wake-up sockets of the siblings (``wakeups``)."""
        return self.run_dir / "wakeups"

    def ready(self) -> None:
        """Tell the parent that this process serves."""
        os.write(self.ready_fd, b".")
        os.close(self.ready_fd)
