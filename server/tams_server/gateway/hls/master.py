"""Master playlists (RFC 8216 section 4.3.4): renditions in, playlist text out. Pure.

Audio renditions become one ``EXT-X-MEDIA`` group (``audio``) that every video
variant names; without video, each audio rendition is a variant of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from tams_server.gateway.hls.playlist import safe_uri

AUDIO_GROUP = "audio"
_UNQUOTABLE = re.compile(r'[\x00-\x1f\x7f"]')


class Kind(Enum):
    """What a rendition carries."""

    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class Rendition:
    """One member Flow as the master playlist announces it."""

    kind: Kind
    uri: str
    """Its media playlist."""
    name: str
    bandwidth: int
    """Peak bits per second (declared or estimated)."""
    average_bandwidth: int | None = None
    codecs: str | None = None
    """RFC 6381 codec string, when known."""
    resolution: tuple[int, int] | None = None
    frame_rate: float | None = None


def quoted(text: str) -> str:
    """``text`` as a quoted-string attribute value (no quote, no line break)."""
    return '"' + _UNQUOTABLE.sub("'", text) + '"'


def render_master_playlist(renditions: Sequence[Rendition]) -> str:
    """The master playlist of these renditions (video variants first, in order)."""
    videos = [r for r in renditions if r.kind is Kind.VIDEO]
    audios = [r for r in renditions if r.kind is Kind.AUDIO]
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    if not videos:
        for audio in audios:
            lines += [_stream_inf(audio, None), safe_uri(audio.uri)]
        return "\n".join(lines) + "\n"
    for index, audio in enumerate(audios):
        lines.append(
            f"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID={quoted(AUDIO_GROUP)},NAME={quoted(audio.name)},"
            f"DEFAULT={'YES' if index == 0 else 'NO'},AUTOSELECT=YES,"
            f"URI={quoted(safe_uri(audio.uri))}"
        )
    loudest = max(audios, key=lambda a: a.bandwidth, default=None)
    for video in videos:
        lines += [_stream_inf(video, loudest), safe_uri(video.uri)]
    return "\n".join(lines) + "\n"


def _stream_inf(variant: Rendition, audio: Rendition | None) -> str:
    """The EXT-X-STREAM-INF of ``variant``, with the audio group's largest rendition
    counted in (the bandwidths of a variant include its audio)."""
    bandwidth = variant.bandwidth + (audio.bandwidth if audio else 0)
    attributes = [f"BANDWIDTH={bandwidth}"]
    averages = (
        [variant.average_bandwidth, audio.average_bandwidth]
        if audio
        else [variant.average_bandwidth]
    )
    if all(value is not None for value in averages):
        attributes.append(f"AVERAGE-BANDWIDTH={sum(v for v in averages if v is not None)}")
    codecs = [variant.codecs, audio.codecs] if audio else [variant.codecs]
    if all(codecs):
        attributes.append(f"CODECS={quoted(','.join(c for c in codecs if c))}")
    if variant.resolution is not None:
        attributes.append(f"RESOLUTION={variant.resolution[0]}x{variant.resolution[1]}")
    if variant.frame_rate is not None:
        attributes.append(f"FRAME-RATE={variant.frame_rate:.3f}")
    if audio is not None:
        attributes.append(f"AUDIO={quoted(AUDIO_GROUP)}")
    return "#EXT-X-STREAM-INF:" + ",".join(attributes)
