"""The event loop a blocking client runs its uploads on: one per client, in a daemon
thread, started at the first upload. Uploads are asyncio through and through (httpx,
concurrent PUTs, multipart), so TamsClient runs AsyncTamsClient's on this loop instead
of keeping a second copy; it works whatever the calling thread is doing, a running
event loop included."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from tams_client._async_client import AsyncTamsClient

Result = TypeVar("Result")


class LoopThread:
    """Runs coroutines on a client of its own, on its own loop."""

    def __init__(self, connect: Callable[[], AsyncTamsClient]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: AsyncTamsClient | None = None

    def run(self, work: Callable[[AsyncTamsClient], Coroutine[Any, Any, Result]]) -> Result:
        """``work``'s result, waited for in the calling thread."""
        loop, client = self._started()
        return asyncio.run_coroutine_threadsafe(work(client), loop).result()

    def close(self) -> None:
        """Close the client and stop the loop, if they were started."""
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = None
        if loop is None or thread is None or client is None:
            return
        asyncio.run_coroutine_threadsafe(client.close(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    def _started(self) -> tuple[asyncio.AbstractEventLoop, AsyncTamsClient]:
        with self._lock:
            if self._loop is None or self._client is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="tams-client-uploads", daemon=True
                )
                self._thread.start()
                self._loop = loop
                self._client = asyncio.run_coroutine_threadsafe(self._open(), loop).result()
            return self._loop, self._client

    async def _open(self) -> AsyncTamsClient:
        # The aio channel belongs to the loop it is made on.
        return self._connect()
