"""Background work of a server: the worker that finishes flow delete requests, and
the janitor that removes Objects no Segment uses and abandoned multipart uploads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from tams_server.domain.errors import TamsError
from tams_server.domain.storage import StorageBackend
from tams_server.objects.multipart import Multipart
from tams_server.objects.urls import ObjectUrls
from tams_server.store.clock import now_ns
from tams_server.store.deletions import DeletionStore
from tams_server.store.multipart import MultipartStore
from tams_server.store.objects import ObjectRecordStore

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


class ObjectJanitor:
    """Deletes Objects no Segment uses: allocations that expired unused, and Objects
    whose last Segment was deleted (reference counting). The record goes first, then
    the bytes of every copy, so a crash leaves at worst stray bytes, never a record of
    bytes that are gone."""

    def __init__(
        self,
        store: ObjectRecordStore,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
        uploads: MultipartStore,
        multipart: Multipart,
        *,
        interval_s: float,
    ) -> None:
        self._store = store
        self._urls = urls
        self._uploads = uploads
        self._multipart = multipart
        self._backends = {backend.id: backend for backend in backends}
        self._interval_s = interval_s
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Sweep every ``interval_s`` until stopped."""
        while not self._stop.is_set():
            try:
                await self.sweep()
            except Exception:  # a failing sweep must not end the janitor
                log.exception("object cleanup failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)

    async def sweep(self, batch: int = 500) -> int:
        """One pass; returns how many Objects went. Multipart uploads left unfinished
        past their expiry are aborted too."""
        for upload in await self._uploads.expired(limit=batch):
            backend = self._backends.get(upload.storage_id)
            if backend is not None:
                await self._multipart.abort(
                    backend, upload.id, upload.backend_upload_id, upload.storage_key
                )
            await self._uploads.forget(upload.id)
        removed = 0
        for object_id in await self._store.expired(limit=batch):
            places = await self._store.forget_if_unused(object_id)
            if places is None:
                continue
            for storage_id, key in places:
                backend = self._backends.get(storage_id)
                if backend is not None:
                    await self._urls.delete(backend, key)
            removed += 1
        return removed

    def stop(self) -> None:
        """Ask the janitor to stop."""
        self._stop.set()
