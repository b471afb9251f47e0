"""How long a thread may hold CPython's GIL while another thread waits for it.

The server's event loop shares the process with worker threads: aiosqlite's SQLite
thread and the threads that check uploaded files. Each needs the GIL to start and to
finish every piece of work it is handed, even when the work itself runs without it.
CPython lets a busy thread keep the GIL for 5 ms before it must hand over, and the
event loop is busy for about that long converting one page of a listing into
messages: the next page's read, handed to the SQLite thread before the conversion so
that the two would overlap, waited for the conversion to end before it could start.
With half a millisecond, it starts at once. Measured (SQLite, 10,000 Segments with
presigned S3 URLs, median of seven listings): 162,000 -> 270,000 Segments/s; without
URLs 395,000 -> 492,000/s.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL_S = 0.0005


def shorten_thread_switches() -> None:
    """Make a thread holding the GIL hand it over after ``SWITCH_INTERVAL_S`` when
    another thread waits for it; call once in a serving process."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
