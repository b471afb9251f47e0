"""Background work of a server: the worker that finishes flow delete requests, the
janitor that removes Objects no Segment uses and abandoned multipart uploads, event
retention, and retention by tags."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from tams_server.domain.errors import TamsError
from tams_server.store.clock import now_ns
from tams_server.store.deletions import DeletionStore
from tams_server.store.outbox import EventLog
from tams_server.usecases.multipart import MultipartUploads
from tams_server.usecases.objects import UnusedObjects
from tams_server.usecases.retention import Retention

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


class Periodic:
    """Work done every ``interval_s`` until stopped. A failing round is logged and the
    next one comes: background work must outlive a database that is briefly away."""

    what = "background work"

    def __init__(self, *, interval_s: float) -> None:
        self._interval_s = interval_s
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """A round every ``interval_s`` until stopped."""
        while not self._stop.is_set():
            try:
                await self.round()
            except Exception:
                log.exception("%s failed; trying again later", self.what)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)

    async def round(self) -> None:
        """One round of the work."""
        raise NotImplementedError

    def stop(self) -> None:
        """Ask for no further round (the current one ends first)."""
        self._stop.set()


class ObjectJanitor(Periodic):
    """Removes the Objects no Segment uses and the multipart uploads left unfinished
    past their expiry."""

    what = "object cleanup"

    def __init__(
        self, objects: UnusedObjects, uploads: MultipartUploads, *, interval_s: float
    ) -> None:
        super().__init__(interval_s=interval_s)
        self._objects = objects
        self._uploads = uploads

    async def round(self) -> None:
        removed = await self.sweep()
        if removed:
            log.info("janitor removed %d object(s)", removed)

    async def sweep(self, batch: int = 500) -> int:
        """One pass; returns how many Objects went."""
        await self._uploads.abort_expired(limit=batch)
        return await self._objects.remove(limit=batch)


class EventRetention(Periodic):
    """Removes the events older than ``retention_s``, in bounded batches, so writers
    never wait long behind it."""

    what = "event retention"

    def __init__(self, log: EventLog, *, retention_s: float, interval_s: float) -> None:
        super().__init__(interval_s=interval_s)
        self._log = log
        self._retention_ns = int(retention_s * 1e9)

    async def round(self) -> None:
        await self.prune()

    async def prune(self) -> int:
        """Remove every expired event; returns how many went."""
        removed = 0
        while not self._stop.is_set():
            batch = await self._log.prune(before_ns=now_ns() - self._retention_ns)
            removed += batch
            if not batch:
                break
        return removed


class RetentionWorker(Periodic):
    """Runs a retention sweep by tags (``usecases.retention``)."""

    what = "retention by tags"

    def __init__(self, retention: Retention, *, interval_s: float) -> None:
        super().__init__(interval_s=interval_s)
        self._retention = retention

    async def round(self) -> None:
        swept = await self._retention.sweep()
        if swept.flows or swept.segments:
            log.info("retention deleted %d flow(s) and %d segment(s)", swept.flows, swept.segments)
