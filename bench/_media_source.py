"""The media benchmark's source file, made with PyAV in a process of its own (the
benchmark process never loads FFmpeg's libraries): H.264 + AAC in MP4, every frame
different (a moving gradient and a band of noise, so the encoder has work to do),
a key frame each second.

``python -m bench._media_source PATH WIDTH HEIGHT FPS SECONDS``"""

from __future__ import annotations

import math
import os
import struct
import sys
from pathlib import Path

import av

SAMPLE_RATE = 48000
AAC_FRAME = 1024


def make(path: Path, width: int, height: int, fps: int, seconds: int) -> None:
    """Write the file to ``path`` (through a temporary name, so a killed run leaves
    no half-made file behind to be taken for the cached one)."""
    partial = path.with_name(path.name + ".partial")
    with av.open(str(partial), "w", format="mp4") as output:
        video = output.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "23", "g": str(fps), "sc_threshold": "0"}
        audio = output.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        pattern = bytes(x % 256 for x in range(2 * width + 512))
        band = height // 24
        for index in range(fps * seconds):
            frame = av.VideoFrame(width, height, "yuv420p")
            for number, plane in enumerate(frame.planes):
                shift = (index * 7 + number * 50) % 256
                row = pattern[shift : shift + plane.line_size]
                data = bytearray(row * plane.height)
                if number == 0:  # a band of noise moving down the picture
                    top = (index * 8) % max(1, plane.height - band)
                    noise = os.urandom(band * plane.line_size)
                    data[top * plane.line_size : (top + band) * plane.line_size] = noise
                plane.update(bytes(data[: plane.buffer_size]))
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
    os.replace(partial, path)


if __name__ == "__main__":
    target, *numbers = sys.argv[1:]
    width, height, fps, seconds = (int(n) for n in numbers)
    make(Path(target), width, height, fps, seconds)
