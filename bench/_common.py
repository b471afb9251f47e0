"""Shared pieces of the benchmarks: a server on a throwaway data folder, JSON lines."""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tams_server.app import RunningServer, serve
from tams_server.config import Config


def report(metric: str, value: float, unit: str, **extra: object) -> None:
    """Print one figure as a JSON line."""
    print(
        json.dumps({"metric": metric, "value": round(value, 6), "unit": unit, **extra}), flush=True
    )


@asynccontextmanager
async def server(database_url: str | None) -> AsyncIterator[RunningServer]:
    """The real server in-process on a free port, on SQLite in a temp folder unless a
    database URL is given."""
    with tempfile.TemporaryDirectory(prefix="tams-bench-") as tmp:
        config = Config(grpc_port=0, http_port=0, data_dir=Path(tmp), database_url=database_url)
        async with serve(config) as running:
            yield running
