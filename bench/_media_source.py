"""The media benchmark's source file, made with PyAV in a process of its own (the
benchmark process never loads FFmpeg's libraries): H.264 + AAC in MP4, every frame
different (a moving gradient and a band of noise, so the encoder has work to do),
a key frame each second.

``write_clip`` is the one writer of H.264 + AAC clips: the media tests make their
small clips with it too (``tests/helpers/media.py``), painting their own frames.

``python -m bench._media_source PATH WIDTH HEIGHT FPS SECONDS``"""

from __future__ import annotations

import math
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import av

SAMPLE_RATE = 48000
AAC_FRAME = 1024  # samples per AAC frame: the encoder's priming is one frame

Painter = Callable[[av.VideoFrame, int], None]
"""Fills the planes of a new yuv420p frame, given its index."""


def write_clip(
    path: Path, *, width: int, height: int, fps: int, seconds: int, fmt: str | None,
    video_options: dict[str, object], paint: Painter,
) -> None:  # fmt: skip
    """``seconds`` of ``width``x``height`` H.264 at ``fps`` (libx264 with
    ``video_options``, each frame filled by ``paint``) and 48 kHz stereo AAC (a 440 Hz
    tone), in the container ``fmt`` (from the name when None)."""
    with av.open(str(path), "w", format=fmt) as output:
        video = output.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = video_options
        audio = output.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        for index in range(fps * seconds):
            frame = av.VideoFrame(width, height, "yuv420p")
            paint(frame, index)
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        total = SAMPLE_RATE * seconds
        for first in range(0, total, AAC_FRAME):
            count = min(AAC_FRAME, total - first)
            tone = [int(6000 * math.sin(2 * math.pi * 440 * (first + i) / SAMPLE_RATE))
                    for i in range(count)]  # fmt: skip
            sound = av.AudioFrame(format="s16", layout="stereo", samples=count)
            sound.planes[0].update(struct.pack(f"<{2 * count}h", *(v for v in tone for _ in "lr")))
            sound.sample_rate, sound.pts = SAMPLE_RATE, first
            output.mux(audio.encode(sound))
        output.mux(audio.encode(None))


def _gradient_and_noise(width: int, height: int) -> Painter:
    """A gradient moving across the picture and a band of noise moving down it."""
    pattern = bytes(x % 256 for x in range(2 * width + 512))
    band = height // 24

    def paint(frame: av.VideoFrame, index: int) -> None:
        for number, plane in enumerate(frame.planes):
            shift = (index * 7 + number * 50) % 256
            row = pattern[shift : shift + plane.line_size]
            data = bytearray(row * plane.height)
            if number == 0:  # a band of noise moving down the picture
                top = (index * 8) % max(1, plane.height - band)
                noise = os.urandom(band * plane.line_size)
                data[top * plane.line_size : (top + band) * plane.line_size] = noise
            plane.update(bytes(data[: plane.buffer_size]))

    return paint


def make(path: Path, width: int, height: int, fps: int, seconds: int) -> None:
    """Write the file to ``path`` (through a temporary name, so a killed run leaves
    no half-made file behind to be taken for the cached one)."""
    partial = path.with_name(path.name + ".partial")
    write_clip(
        partial, width=width, height=height, fps=fps, seconds=seconds, fmt="mp4",
        video_options={"preset": "ultrafast", "crf": "23", "g": str(fps), "sc_threshold": "0"},
        paint=_gradient_and_noise(width, height),
    )  # fmt: skip
    os.replace(partial, path)


if __name__ == "__main__":
    target, *numbers = sys.argv[1:]
    width, height, fps, seconds = (int(n) for n in numbers)
    make(Path(target), width, height, fps, seconds)
