"""Real media for the tests of ``tams``: tiny H.264 + AAC clips made with PyAV, the
``tams`` command run as a real subprocess (an ingest, one killed where it pauses), the
Segments it registered, and what a file decodes to."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from bench import _media_source as media_source
from tams.v1 import segments_pb2
from tams_cli._ingest import PAUSE_AFTER_ENV
from tams_client import AsyncTamsClient

WIDTH, HEIGHT, FPS = 320, 240, 25
SAMPLE_RATE = media_source.SAMPLE_RATE
AAC_FRAME = media_source.AAC_FRAME  # samples per AAC frame: the encoder's priming is one frame


def _gradients(frame: av.VideoFrame, index: int) -> None:
    """A gradient per plane, moving with the frame's index."""
    for number, plane in enumerate(frame.planes):
        row = bytes((index * 9 + number * 50 + x) % 256 for x in range(256))
        plane.update((row * (plane.buffer_size // 256 + 1))[: plane.buffer_size])


def make_clip(path: Path, seconds: int = 4, fmt: str | None = None) -> Path:
    """``seconds`` of 320x240 25 fps H.264 (a key frame each second, B-frames) and
    48 kHz stereo AAC, every frame different; the container from ``fmt`` or the name."""
    media_source.write_clip(
        path, width=WIDTH, height=HEIGHT, fps=FPS, seconds=seconds, fmt=fmt,
        video_options={"preset": "ultrafast", "g": str(FPS), "bf": "2", "sc_threshold": "0"},
        paint=_gradients,
    )  # fmt: skip
    return path


@dataclass(frozen=True)
class Decoded:
    """What a file decodes to: each video frame's digest (visible pixels only, in
    order), and the audio samples per channel."""

    frames: list[str]
    samples: int


def frame_digest(frame: av.VideoFrame) -> str:
    """A digest of the frame's visible pixels (its planes without their padding)."""
    digest = hashlib.sha256()
    for plane in frame.planes:
        view = memoryview(plane)
        for y in range(plane.height):
            start = y * plane.line_size
            digest.update(view[start : start + plane.width])
    return digest.hexdigest()[:16]


def decode(path: Path) -> Decoded:
    """Decode every video frame and audio sample of ``path``."""
    frames: list[str] = []
    samples = 0
    with av.open(str(path)) as container:
        for stream in container.streams:
            container.seek(0)
            for frame in container.decode(stream):
                if isinstance(frame, av.VideoFrame):
                    frames.append(frame_digest(frame))
                elif isinstance(frame, av.AudioFrame):
                    samples += frame.samples
    return Decoded(frames, samples)


@dataclass(frozen=True)
class Run:
    """A finished ``tams`` run."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, f"tams failed ({self.code}): {self.stderr}"
        return json.loads(self.stdout)

    def lines(self) -> list[Any]:
        assert self.code == 0, f"tams failed ({self.code}): {self.stderr}"
        return [json.loads(line) for line in self.stdout.splitlines()]


def tams_env(target: str, **extra: str) -> dict[str, str]:
    """The environment of a ``tams`` subprocess aimed at ``target``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAMS_")}
    return {**env, "TAMS_TARGET": target, **extra}


async def start_tams(
    target: str, *args: str, stdin: bool = False, **extra_env: str
) -> asyncio.subprocess.Process:
    """``tams ARGS`` started as a subprocess of the venv's Python (its standard input a
    pipe with ``stdin``, else nothing)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tams_cli", *args,
        env=tams_env(target, **extra_env),
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def tams(target: str, *args: str, **extra_env: str) -> Run:
    """Run ``tams ARGS`` against ``target`` to its end (within a minute)."""
    process = await start_tams(target, *args, **extra_env)
    async with asyncio.timeout(60):
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


async def ingest(target: str, clip: Path, *options: str) -> dict[str, Any]:
    """``tams ingest CLIP OPTIONS --json`` run to its end: its report."""
    report: dict[str, Any] = (await tams(target, "ingest", str(clip), *options, "--json")).json()
    return report


async def kill_at_pause(process: asyncio.subprocess.Process) -> None:
    """Wait (a minute at most) for the ``tams ingest`` run ``process``, started with
    ``PAUSE_AFTER_ENV``, to say it paused; then SIGKILL it."""
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while b"paused" not in (line := await process.stderr.readline()):
            assert line, "the ingest ended without reaching its pause"
    process.kill()
    await process.wait()


async def kill_ingest_after(target: str, *args: str, segments: int) -> None:
    """Start ``tams ARGS`` (an ingest) told to pause after ``segments`` Segments, and
    SIGKILL it there."""
    await kill_at_pause(await start_tams(target, *args, **{PAUSE_AFTER_ENV: str(segments)}))


def journal_flow_ids(journal: dict[str, Any]) -> list[str]:
    """The ids of the Flows an ingest journal records."""
    return [flow_id for flow_id, _, _ in journal["flows"].values()]


async def flow_segments(target: str, flow_ids: Iterable[str]) -> list[list[segments_pb2.Segment]]:
    """Each Flow's Segments, in order, as the server lists them."""
    async with AsyncTamsClient(target) as client:
        return [[s async for s in client.list_segments(flow_id)] for flow_id in flow_ids]


def segment_shape(segment: segments_pb2.Segment) -> tuple[str, str, int]:
    """What two ingests of the same clip give a Segment alike: its timerange, offset and
    key frame count (its Object differs)."""
    return (segment.timerange, segment.ts_offset, segment.key_frame_count)


async def segment_shapes(target: str, flow_ids: Iterable[str]) -> list[list[tuple[str, str, int]]]:
    """Each Flow's Segments as ``segment_shape`` gives them."""
    return [list(map(segment_shape, listed)) for listed in await flow_segments(target, flow_ids)]
