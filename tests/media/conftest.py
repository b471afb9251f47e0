"""Clips for the media tests, made once per session with PyAV (a few hundred KB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.media import make_clip


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 4 s H.264 + AAC clip as MP4 and as MPEG-TS."""
    folder = tmp_path_factory.mktemp("clips")
    return {
        "mp4": make_clip(folder / "clip.mp4"),
        "ts": make_clip(folder / "clip.ts", fmt="mpegts"),
    }


@pytest.fixture
def clip_copy(tmp_path: Path, clips: dict[str, Path]) -> Path:
    """A private copy of the MP4 clip (its journal goes beside it)."""
    copy = tmp_path / "clip.mp4"
    copy.write_bytes(clips["mp4"].read_bytes())
    return copy
