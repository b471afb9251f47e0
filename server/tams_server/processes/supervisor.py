"""The parent of ``serve --processes N`` (Linux): it forks N serving children and
watches them.

Before the fork, with no gRPC object in existence (gRPC's core does not survive a
fork), the parent reserves the gRPC port (``ports``), binds the HTTP side's socket and
makes a run folder (Prometheus' files, the wake-up sockets); the CLI has run the
migrations once already. Each child then runs ``app.serve`` as a single server would,
with its own event loop, database engine and gRPC server on the shared port.

What runs where:

- gRPC: every child (the kernel spreads the connections over the port's sockets);
- HTTP (REST gateway, ``/metrics``, local object routes): every child, accepting on
  the one socket the parent bound, so its URL (signed into local object URLs) is the
  same in all. Nothing there holds state of its own: the gateway calls its own
  process's gRPC server, local objects and upload parts are files, and ``/metrics``
  reads every process's counters (``metrics``);
- background workers (deletions, janitor, retention, event retention, webhook
  delivery): the first child only. Replicas on PostgreSQL may all run them (work is
  claimed with leases), but N copies on one machine add polling, not throughput, and
  one keeps SQLite's single writer free for the RPCs.

State kept in a process is safe to be N times: the credentials cache holds verified
principals (each process verifies alone), the page-token and URL-signing secrets come
from the database, ids are UUIDs, and the one thing that assumed one process, the
wake-up of event readers on a commit, goes across processes (``wakeups`` on SQLite,
NOTIFY on PostgreSQL). SQLite's writers queue on the database file's lock
(``BEGIN IMMEDIATE`` with a busy timeout), across processes as within one.

Supervision: the parent prints the usual ``tams-server: gRPC on HOST:PORT`` once every
child serves. SIGTERM or SIGINT is passed on to the children, each shutting down
gracefully as a single server does, and the parent exits 0 once they all have. A
child that ends on its own (a crash, a kill) makes the parent stop the others and
exit non-zero, for the orchestrator to restart the whole. A child dies with its
parent (``PR_SET_PDEATHSIG``), so a killed parent leaves no orphan serving.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import selectors
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType

from tams_server.config import Config
from tams_server.config.errors import ConfigError
from tams_server.http.server import bind
from tams_server.processes.metrics import DIR_VARIABLE, count_in_files
from tams_server.processes.ports import reserve_port
from tams_server.processes.siblings import Siblings

log = logging.getLogger("tams_server.processes")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG = 1

Child = Callable[[Config, Siblings], None]
"""What a child runs: serve ``config`` as one of ``siblings`` until signalled."""


def serve_processes(config: Config, count: int, child: Child) -> int:
    """Serve with ``count`` processes until signalled; the parent's exit status."""
    reserved, port = reserve_port(config.grpc_host, config.grpc_port)
    with reserved, tempfile.TemporaryDirectory(prefix="tams-processes-") as folder:
        run_dir = Path(folder)
        try:
            http_socket, http_url = bind(
                config.http_host, config.http_port, https=config.tls_cert is not None
            )
        except OSError as error:
            raise ConfigError(
                f"--http-port {config.http_port} on {config.http_host}: {error.strerror}"
            ) from None
        (run_dir / "wakeups").mkdir()
        shared = replace(config, grpc_port=port, migrate_on_start=False)
        if config.metrics != "off":
            (run_dir / "metrics").mkdir()
            os.environ[DIR_VARIABLE] = str(run_dir / "metrics")
        ready_read, ready_write = os.pipe()
        # Signals wait until the parent's handlers are set and each child's are reset.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        children: dict[int, int] = {}
        try:
            for index in range(count):
                siblings = Siblings(index, count, http_socket, http_url, run_dir, ready_write)
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child; measured by the tests' processes
                    os.close(ready_read)
                    reserved.close()
                    _run_child(shared, siblings, child, mask)
                children[pid] = index
        except BaseException:
            for pid in children:
                os.kill(pid, signal.SIGTERM)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise
        finally:
            os.close(ready_write)
            http_socket.close()  # the children hold it
        try:
            return _supervise(children, ready_read, f"{config.grpc_host}:{port}", mask)
        finally:
            os.close(ready_read)
            os.environ.pop(DIR_VARIABLE, None)


def _run_child(config: Config, siblings: Siblings, child: Child, mask: set[int]) -> None:
    """In a child: serve, then end the process (never return into the parent's code,
    whose cleanups are the parent's)."""
    code = 1
    try:
        _die_with_parent()
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        if os.environ.get(DIR_VARIABLE):
            count_in_files(Path(os.environ[DIR_VARIABLE]))
        workers = config.run_workers and siblings.index == 0
        child(replace(config, run_workers=workers), siblings)
        code = 0
    except ConfigError as error:
        print(f"tams-server: error: {error}", file=sys.stderr)
        code = 2
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _die_with_parent() -> None:
    """SIGTERM this process when its parent dies (a child never outlives the
    supervisor); if the parent is gone already, end now."""
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(1)


def _supervise(children: dict[int, int], ready_fd: int, target: str, mask: set[int]) -> int:
    """Watch the children until all have ended: announce ``target`` once all serve,
    pass signals on, stop all when one ends on its own. The exit status: 0 when they
    all ended 0 after a signal, else the first failure's status (1 for a kill)."""
    alive = dict(children)
    stopping = False
    status = 0

    def stop_all(signum: int) -> None:
        for pid in list(alive):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        stop_all(signum)

    for signum in _SIGNALS:
        signal.signal(signum, on_signal)
    selector = selectors.DefaultSelector()
    for pid in alive:
        selector.register(os.pidfd_open(pid), selectors.EVENT_READ, pid)
    selector.register(ready_fd, selectors.EVENT_READ, None)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    ready = 0
    try:
        while alive:
            for key, _ in selector.select():
                if key.data is None:  # children saying they serve
                    said = os.read(ready_fd, 64)
                    if not said:
                        selector.unregister(ready_fd)
                    ready += len(said)
                    if said and ready == len(children) and not stopping:
                        print(f"tams-server: gRPC on {target}", flush=True)
                        log.info("%d processes serve, pids %s", ready, " ".join(map(str, alive)))
                    continue
                pid = key.data
                selector.unregister(key.fd)
                os.close(key.fd)
                code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
                del alive[pid]
                if code != 0 or not stopping:
                    log.error(
                        "process %d (%d of %d) ended with %s%s", pid, children[pid] + 1,
                        len(children), f"status {code}" if code >= 0 else f"signal {-code}",
                        "" if stopping else ": stopping the others",
                    )  # fmt: skip
                    status = status or (code if code > 0 else 1)
                if not stopping:
                    stopping = True
                    stop_all(signal.SIGTERM)
    finally:
        selector.close()
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
    return status
