"""/docs and /redoc really render: headless Chromium (Debian's package) loads them from
the running server, with every host name but this server's unresolvable (no CDN can
help), and every operation of /openapi.json shows up in the DOM it dumps."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.openapi import served_document
from tams_server.app import RunningServer, serve_gateway
from tams_server.gateway.openapi_doc import operations


@pytest.fixture
async def document(running: RunningServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        return await served_document(client)


async def dump_dom(chromium: str, url: str, profile: Path) -> str:
    """The DOM of ``url`` once its scripts have run. Asynchronous: the server answering
    the browser runs on this event loop."""
    process = await asyncio.create_subprocess_exec(
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={profile}", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=30000", "--dump-dom", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout.decode()


async def test_swagger_ui_shows_every_operation(
    chromium: str, running: RunningServer, document: dict[str, Any], tmp_path: Path
) -> None:
    dom = await dump_dom(chromium, f"{running.http_url}/docs", tmp_path)
    # Each operation is an "opblock", its path in a data-path attribute.
    assert dom.count('class="opblock ') == len(list(operations(document)))
    for path in ("/sources", "/flows/{flowId}/segments", *document["paths"]):
        assert f'data-path="{path}"' in dom, path


async def test_redoc_shows_every_operation(
    chromium: str, running: RunningServer, document: dict[str, Any], tmp_path: Path
) -> None:
    dom = await dump_dom(chromium, f"{running.http_url}/redoc", tmp_path)
    assert "Something went wrong" not in dom
    for name in ("List Sources", "List Flow Segments"):
        assert name in dom
    for path, method, operation in operations(document):
        assert html.escape(operation["summary"], quote=False) in dom, (method, path)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_guide_dialects_docs_show_every_operation_of_its_document(
    chromium: str, running: RunningServer, tmp_path: Path, page: str
) -> None:
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        guide = await served_document(client)
        dom = await dump_dom(chromium, f"{url}{page}", tmp_path)
    assert "usage guide" in guide["info"]["title"]
    assert "Something went wrong" not in dom
    if page == "/docs":
        assert dom.count('class="opblock ') == len(list(operations(guide)))
        for path in ("/flow-usage", "/time-range-analysis", *guide["paths"]):
            assert f'data-path="{path}"' in dom, path
    else:
        for path, method, operation in operations(guide):
            assert html.escape(operation["summary"], quote=False) in dom, (method, path)
