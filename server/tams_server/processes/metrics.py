"""``/metrics`` of ``serve --processes N``: prometheus-client's multiprocess mode.

Each process keeps its counters, histograms and gauges in memory-mapped files of a
folder the parent made (``PROMETHEUS_MULTIPROC_DIR``, set before the fork); whichever
process answers a scrape reads them all, so ``grpc_server_handled_total`` counts the
calls of every process (counters and histograms are summed). The backlog gauges are
refreshed by the process that answers, and the most recent value is shown. The pool
gauges (``tams_db_pool_*``) are read in the answering process: they describe its own
connection pool.

prometheus-client chooses where values live when it is first imported, from the
environment; the server imported it before ``--processes`` was read, so each child
switches it to the files before it creates any metric (its pid names its files).
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, values
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def count_in_files(folder: Path) -> None:
    """From now on, metrics created in this process keep their values in ``folder``."""
    os.environ[DIR_VARIABLE] = str(folder)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def every_process(folder: Path, *local: Collector) -> CollectorRegistry:
    """What a scrape reads: the files of every process, and ``local`` collectors (read
    in this process)."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    for collector in local:
        registry.register(collector)
    return registry
