"""Background work of a server: the worker that finishes flow delete requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from tams_server.domain.errors import TamsError
from tams_server.store.clock import now_ns
from tams_server.store.deletions import DeletionStore

log = logging.getLogger("tams_server.background")


class DeletionWorker:
    """Claims unfinished flow delete requests and deletes their Segments in batches,
    one transaction each, until stopped; picks up what a stopped server left."""

    def __init__(self, store: DeletionStore, *, batch_size: int, idle_wait_s: float = 0.2):
        self._store = store
        self._batch_size = batch_size
        self._idle_wait_s = idle_wait_s
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Work until ``stop``; a failing request is marked ``error`` and skipped."""
        while not self._stop.is_set():
            request_id = await self._store.claim()
            if request_id is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._idle_wait_s)
                continue
            try:
                while not self._stop.is_set():
                    if await self._store.advance(request_id, self._batch_size):
                        break
            except TamsError as error:
                log.warning("flow delete request %s failed: %s", request_id, error.message)
                await self._store.fail(
                    request_id,
                    {"type": error.reason, "summary": error.message, "time_ns": now_ns()},
                )

    def stop(self) -> None:
        """Ask the worker to stop after its current batch."""
        self._stop.set()
