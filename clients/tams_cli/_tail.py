"""Reading a file that another program is still writing (``tams ingest --live FILE``):
a read at the current end waits for more bytes, and the file ends once it has not
grown for ``idle_timeout`` seconds (the writer stopped) or when asked to stop."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

POLL_S = 0.05


class GrowingFile(io.RawIOBase):
    """A read-only, non-seekable view of a growing file, for PyAV to demux."""

    def __init__(self, path: Path, idle_timeout: float, stop: threading.Event) -> None:
        self._file: io.BufferedReader = path.open("rb")
        self._idle_timeout = idle_timeout
        self._stop = stop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        idle_since = time.monotonic()
        while True:
            count = self._file.readinto(buffer)
            if count:
                return count
            if self._stop.is_set() or time.monotonic() - idle_since >= self._idle_timeout:
                return 0
            self._stop.wait(POLL_S)

    def close(self) -> None:
        self._file.close()
        super().close()
