"""The player page: headless Chromium (Debian's package, driven by Playwright, no
browser download) loads ``/hls/player`` from the running server, hls.js parses the
playlist, loads its fragments and the video plays (its time advances); and the page's
refusals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from helpers.servers import own_server
from tams_server.app import RunningServer

PLAY_SECONDS = 1.0


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required",
                # Nothing but this machine resolves: no CDN could help.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
        )  # fmt: skip
        try:
            yield launched
        finally:
            await launched.close()


@pytest.mark.parametrize("what", ["flow", "source"])
async def test_the_player_plays_the_clip_in_chromium(
    browser: Browser, running: RunningServer, ingested: dict[str, Any], what: str
) -> None:
    ident = ingested["flows"][1]["id"] if what == "flow" else ingested["source_id"]
    page = await browser.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    await page.goto(f"{running.http_url}/hls/player?{what}={ident}")
    # hls.js parsed the playlist, loaded fragments, and the video decodes and advances.
    await page.wait_for_function(
        f"""() => {{
            const video = document.getElementById("video");
            return window.tamsPlayer.manifestParsed && window.tamsPlayer.fragmentsLoaded > 0
                && video.readyState >= 3 && video.currentTime >= {PLAY_SECONDS};
        }}""",
        timeout=60_000,
    )
    state = await page.evaluate(
        """() => ({
            fatal: window.tamsPlayer.fatal,
            width: document.getElementById("video").videoWidth,
            decoded: document.getElementById("video").getVideoPlaybackQuality().totalVideoFrames,
        })"""
    )
    assert state["width"] == 320
    assert state["decoded"] > 0
    # hls.js recovers by itself from what it reports as not fatal (with the audio
    # rendition, a seek over the small hole before the first audio frame).
    assert state["fatal"] == []
    assert failed == []


async def test_the_player_refuses_what_is_not_one_id(running: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=running.http_url) as http:
        for params in ({}, {"flow": "a", "source": "b"}, {"flow": '"><script>'}, {"source": ""}):
            answer = await http.get("/hls/player", params=params)
            assert answer.status_code == 400, (params, answer.text)
            assert answer.json()["type"] == "INVALID_ARGUMENT"


async def test_without_hls_js_the_player_says_how_to_install_it(
    tmp_path: Path, database_url: str
) -> None:
    missing = tmp_path / "nowhere" / "hls.min.js"
    async with (
        own_server(tmp_path / "data", database_url, hls_js=missing) as stubs,
        httpx.AsyncClient(base_url=stubs.running.http_url) as http,
    ):
        page = await http.get("/hls/player", params={"flow": str(uuid.uuid4())})
        script = await http.get("/hls/hls.min.js")
    for answer in (page, script):
        assert answer.status_code == 503
        assert "npm ci --prefix web" in answer.json()["summary"]
