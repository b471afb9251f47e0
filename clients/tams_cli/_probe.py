"""What a media file holds, read with PyAV without decoding: one ``Essence`` per
video or audio stream, with the parameters a TAMS Flow describes."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from tams_cli._media_errors import MediaError
from tams_cli._media_names import AUDIO, VIDEO

# FFmpeg codec names and the MIME types TAMS Flows name codecs by.
_CODEC_TYPES = {
    "h264": "video/h264",
    "hevc": "video/h265",
    "mpeg2video": "video/mpeg2",
    "av1": "video/av1",
    "vp9": "video/vp9",
    "aac": "audio/aac",
    "mp2": "audio/mpeg",
    "mp3": "audio/mpeg",
    "ac3": "audio/ac3",
    "eac3": "audio/eac3",
    "opus": "audio/opus",
}
# MPEG-4 object type identification of audio codecs (ISO/IEC 14496-1).
_MP4_OTI = {"aac": 0x40, "mp3": 0x6B, "mp2": 0x69}


@dataclass(frozen=True)
class Essence:
    """One stream to become a Flow: its kind (``video`` or ``audio``), its index in
    the file, its codec and the parameters of its kind."""

    kind: str
    index: int
    codec: str
    bit_rate: int | None
    width: int = 0
    height: int = 0
    frame_rate: Fraction | None = None
    bit_depth: int | None = None
    chroma_subsampling: tuple[int, int] | None = None
    avc: tuple[int, int, int] | None = None
    sample_rate: int = 0
    channels: int = 0
    coded_frame_size: int | None = None
    mp4_oti: int | None = None


def probe(path: Path) -> list[Essence]:
    """The video and audio essences of ``path``, in stream order; MediaError when the
    file cannot be opened or has neither."""
    try:
        with av.open(str(path)) as container:
            return essences_of(container, str(path))
    except (av.FFmpegError, OSError) as error:
        raise MediaError(f"cannot read {path} as media: {error}") from error


def essences_of(container: av.container.InputContainer, name: str) -> list[Essence]:
    """The video and audio essences of an open ``container`` (``name`` for messages),
    in stream order; MediaError when it has neither."""
    found = [_essence(stream) for stream in container.streams]
    essences = [essence for essence in found if essence is not None]
    if not essences:
        raise MediaError(f"{name} has no video or audio stream to ingest")
    return essences


def _essence(stream: av.stream.Stream) -> Essence | None:
    if isinstance(stream, VideoStream):
        return _video(stream)
    if isinstance(stream, AudioStream):
        return _audio(stream)
    return None


def _video(stream: VideoStream) -> Essence:
    context = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate
    pix_fmt = context.format
    depth: int | None = None
    subsampling: tuple[int, int] | None = None
    if pix_fmt is not None and pix_fmt.components:
        depth = pix_fmt.components[0].bits
        if len(pix_fmt.components) >= 3 and not pix_fmt.is_rgb:
            chroma = pix_fmt.components[1]
            subsampling = (
                1 << (1 if chroma.width != pix_fmt.components[0].width else 0),
                1 << (1 if chroma.height != pix_fmt.components[0].height else 0),
            )
    return Essence(
        kind=VIDEO,
        index=stream.index,
        codec=_codec_type(context.name, VIDEO),
        bit_rate=context.bit_rate or None,
        width=context.width,
        height=context.height,
        frame_rate=Fraction(rate) if rate else None,
        bit_depth=depth,
        chroma_subsampling=subsampling,
        avc=avc_parameters(context.extradata) if context.name == "h264" else None,
    )


def _audio(stream: AudioStream) -> Essence:
    context = stream.codec_context
    return Essence(
        kind=AUDIO,
        index=stream.index,
        codec=_codec_type(context.name, AUDIO),
        bit_rate=context.bit_rate or None,
        sample_rate=context.sample_rate,
        channels=context.channels,
        coded_frame_size=context.frame_size or None,
        mp4_oti=_MP4_OTI.get(context.name),
    )


def _codec_type(name: str, kind: str) -> str:
    return _CODEC_TYPES.get(name, f"{kind}/x-{name}")


def avc_parameters(extradata: bytes | None) -> tuple[int, int, int] | None:
    """(profile, level, constraint flags) of H.264 codec data: an ``avcC`` record
    (MP4) or Annex B NAL units with a sequence parameter set (MPEG-TS)."""
    if not extradata:
        return None
    if extradata[0] == 1 and len(extradata) >= 4:  # avcC: version, profile, flags, level
        return extradata[1], extradata[3], extradata[2]
    at = extradata.find(b"\x00\x00\x01")
    while at != -1 and at + 6 <= len(extradata):
        if extradata[at + 3] & 0x1F == 7:  # SPS: profile, flags, level follow the header
            return extradata[at + 4], extradata[at + 6], extradata[at + 5]
        at = extradata.find(b"\x00\x00\x01", at + 3)
    return None
