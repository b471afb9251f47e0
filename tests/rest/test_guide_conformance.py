"""Schemathesis against the guide dialect: the server run with ``--rest-dialect
guide-7.0`` is fuzzed from the document it serves itself (``/openapi.json``, the
guide's shapes), and no request, well-formed or malformed, gets a server error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from helpers.openapi import served_document
from helpers.schemathesis_runner import schemathesis
from helpers.servers import guide_dialect_server
from tams_server.app import RunningServer


@pytest.fixture
async def guide_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    folder = tmp_path_factory.mktemp("guide-fuzz")
    async with guide_dialect_server(folder, database_url, run_workers=False) as running:
        yield running


async def fuzz(running: RunningServer, tmp_path: Path, *, mode: str, examples: int) -> str:
    """Run schemathesis from the served document; its output, once it passed."""
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        document = await served_document(client)
    spec = tmp_path / "guide.json"
    spec.write_text(json.dumps(document))
    return await schemathesis(
        spec, running.http_url, cwd=tmp_path, mode=mode, checks="not_a_server_error",
        examples=examples, exclude="webhooks|hls", least_tested=60,
    )  # fmt: skip


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
