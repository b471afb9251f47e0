"""What the HLS tests share: a real clip ingested with ``tams ingest`` (once per
database) and an HTTP client of the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.media import ingest, make_clip
from tams_server.app import RunningServer


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of 25 fps H.264 and stereo AAC in MPEG-TS."""
    return make_clip(tmp_path_factory.mktemp("hls-clip") / "clip.ts", fmt="mpegts")


@pytest.fixture(scope="session")
def clip_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same clip as MP4 (for cutting into fMP4)."""
    return make_clip(tmp_path_factory.mktemp("hls-clip-mp4") / "clip.mp4")


@pytest.fixture(scope="module")
async def ingested(
    running: RunningServer, clip: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The clip in the store, in 1 s Segments: ``tams ingest``'s report (the Source, and
    the multi-essence, video and audio Flows)."""
    journal = tmp_path_factory.mktemp("hls-journal")
    return await ingest(
        running.grpc_target, clip, "--segment-duration", "1", "--journal", str(journal)
    )


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client
