"""Checkpoints of SQLite's write-ahead log, beside the writes instead of inside them.

By default SQLite checkpoints in the commit that takes the log past 1,000 pages: that
commit copies the log into the database file and syncs both, while every other write
waits behind it. Registering 100,000 Segments of allocated Objects (each batch
rewrites a thousand Object rows) spent a quarter of its time there: COMMIT 12 ms a
batch with checkpoints, 4.3 ms without (``bench uploaded``, full size). The writer's
connection therefore does not checkpoint (``PRAGMA wal_autocheckpoint=0``) and
``WalCheckpoints`` runs a PASSIVE checkpoint on a reader's connection shortly after
writes, while the next write goes on. A PASSIVE checkpoint, the kind SQLite's own
automatic one is, copies what no reader still needs and waits for no one; the log is
reused from its start once a checkpoint has copied all of it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("tams_server.store")

# How long a checkpoint waits after the commit that calls for it, so that a burst of
# writes is copied in one go: each checkpoint syncs the database file.
CHECKPOINT_AFTER_S = 0.2


class WalCheckpoints:
    """Checkpoints the log of ``engine``'s database after writes: one at a time, at
    most one every ``after_s`` while writes go on, none while there are none."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        autocommit: dict[str, Any],
        after_s: float = CHECKPOINT_AFTER_S,
    ) -> None:
        self._engine = engine
        # The execution options under which a statement runs outside any transaction
        # (a checkpoint cannot run inside one).
        self._autocommit = autocommit
        self._after_s = after_s
        self._wrote = False
        self._copying = False
        self._task: asyncio.Task[None] | None = None

    def wrote(self) -> None:
        """A write transaction committed: a checkpoint follows within ``after_s``."""
        self._wrote = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Drop the checkpoint that waits, or wait for the one under way (SQLite
        checkpoints anyway when the database's last connection closes)."""
        self._wrote = False
        task, self._task = self._task, None
        if task is None:
            return
        if not self._copying:
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        # A task that ``close`` let go of stops at its next round: a write during the
        # close has started another, and one runs at a time.
        while self._wrote and self._task is asyncio.current_task():
            self._wrote = False
            await asyncio.sleep(self._after_s)
            self._copying = True
            try:
                await self.checkpoint()
            except Exception:
                # The next write calls for another; the log keeps what this one left.
                log.warning("checkpoint of the SQLite log failed", exc_info=True)
            finally:
                self._copying = False

    async def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint now: (busy, pages in the log, pages copied)."""
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(**self._autocommit)
            async with conn.begin():
                result = await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                busy, logged, copied = tuple(result.one())
        if busy:
            log.debug("SQLite log checkpoint: busy (%s of %s pages copied)", copied, logged)
        return int(busy), int(logged), int(copied)
