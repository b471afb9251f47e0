"""Schemathesis against the guide dialect: the server run with ``--rest-dialect
guide-7.0`` is fuzzed from the document it serves itself (``/openapi.json``, the
guide's shapes), and no request, well-formed or malformed, gets a server error."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tams_server.app import RunningServer, serve
from tams_server.config import Config


@pytest.fixture
async def guide_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    config = Config(
        grpc_port=0, http_port=0, data_dir=tmp_path_factory.mktemp("guide-fuzz"),
        database_url=database_url, rest_dialect="guide-7.0", shutdown_grace_s=1.0,
        run_workers=False,
    )  # fmt: skip
    async with serve(config) as running:
        yield running


async def fuzz(running: RunningServer, tmp_path: Path, *, mode: str, examples: int) -> str:
    """Run schemathesis from the served document; its output, once it passed."""
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        document = (await client.get("/openapi.json")).raise_for_status().json()
    spec = tmp_path / "guide.json"
    spec.write_text(json.dumps(document))
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(spec), "--url", running.http_url,
        "--checks", "not_a_server_error", "--mode", mode, "--phases", "examples,fuzzing",
        "--max-examples", str(examples), "--seed", "7", "--workers", "1",
        "--exclude-path-regex", "webhooks|hls", "--suppress-health-check", "all",
    ]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert tested is not None
    assert int(tested[1]) >= 60, done.stdout[-3000:]
    return done.stdout


@pytest.mark.timeout(600)
async def test_well_formed_guide_requests_never_get_a_server_error(
    guide_server: RunningServer, tmp_path: Path
) -> None:
    await fuzz(guide_server, tmp_path, mode="positive", examples=5)


@pytest.mark.timeout(600)
async def test_malformed_guide_requests_never_get_a_server_error(
    guide_server: RunningServer, tmp_path: Path
) -> None:
    await fuzz(guide_server, tmp_path, mode="negative", examples=3)
