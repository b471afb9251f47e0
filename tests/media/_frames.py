"""Video frames as the edit tests compare them: the luma (Y) plane of each frame with
its presentation time, and which of some source frames one is closest to (frames
encoded again at a cut are near, not equal, to the source's)."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av


@dataclass(frozen=True)
class Frame:
    """One decoded video frame: when it shows (seconds) and its visible luma bytes."""

    time: Fraction
    luma: bytes


def video_frames(path: Path) -> list[Frame]:
    """Every video frame of ``path``, in presentation order."""
    frames: list[Frame] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            plane = frame.planes[0]
            view = memoryview(plane)
            rows = (view[y * plane.line_size : y * plane.line_size + plane.width]
                    for y in range(plane.height))  # fmt: skip
            assert frame.pts is not None
            time = frame.pts * Fraction(frame.time_base or stream.time_base or 1)
            frames.append(Frame(time, b"".join(bytes(row) for row in rows)))
    return frames


def difference(a: Frame, b: Frame) -> float:
    """Mean absolute difference of two frames' luma, 0 to 255."""
    assert len(a.luma) == len(b.luma)
    return sum(map(abs, map(operator.sub, a.luma, b.luma))) / len(a.luma)


def closest(frame: Frame, source: list[Frame], near: int) -> int:
    """The index of the frame of ``source`` (among ``near`` and its neighbours) that
    ``frame`` is closest to; it must be close (an encoded copy, not another frame)."""
    candidates = [i for i in (near - 1, near, near + 1) if 0 <= i < len(source)]
    best = min(candidates, key=lambda i: difference(frame, source[i]))
    assert difference(frame, source[best]) < 2.0, "no source frame is close to this one"
    return best
