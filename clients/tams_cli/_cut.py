"""One Segment's packets cut to the part of the Flow timeline an export wants.

A Segment maps its Object onto the Flow timeline (``segment_ts = object_ts +
ts_offset``) and may use only part of it (its timerange narrower than the Object,
as a clip made by reference does); the export's range may cut it too. A packet is
wanted when its presentation time on the Flow timeline is inside the wanted range.

- Every packet wanted: the packets as they are (the usual case, nothing decoded).
- Audio (and any stream whose packets decode on their own): the wanted packets, so
  a cut falls on a packet (an AAC frame is 21 ms at 48 kHz).
- Video, group of pictures by group (a run of packets from a key frame on): a group
  wholly wanted is kept as it is, one partly wanted is decoded and its wanted frames
  encoded again (starting with a key frame), one not wanted is left out. So a cut
  costs at most one group encoded again at each end, and a cut on a key frame none.
  Groups are taken to be closed (no frame refers to the group before), as the
  ingest's Segments, cut at key frames, take them to be.

Encoded packets keep their Object time base and timestamps; their decode times are
their presentation times less the Object's own decode delay (its first packet's
``pts - dts``), so they line up with the kept packets of this and the next Segment
(the new frames have no B-frames, hence no reordering of their own)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
from av.codec.context import CodecContext
from av.packet import Packet
from av.stream import Stream
from av.video.frame import PictureType, VideoFrame

from tams_cli._probe import MediaError
from tams_cli._timing import TimeRange, to_ns

# Encoder settings for the frames encoded again: near-transparent quality, no
# B-frames (see the module docstring). Codecs not named here get the encoder's own.
_ENCODER_OPTIONS = {
    "libx264": {"preset": "veryfast", "crf": "12", "bf": "0"},
    "libx265": {"preset": "veryfast", "crf": "12", "bframes": "0", "log-level": "error"},
}


@dataclass
class CutCount:
    """Frames encoded again so far (the rest of the packets were kept as they are)."""

    reencoded: int = 0


def cut(
    stream: Stream,
    packets: list[Packet[Stream]],
    offset_ns: int,
    wanted: TimeRange,
    count: CutCount,
) -> Iterator[Packet[Stream]]:
    """The packets (in decode order, Object timestamps) that present the part of
    ``stream`` inside ``wanted`` (Flow timeline, both ends set); ``packets`` are the
    Segment's demuxed packets with a ``pts``."""
    time_base = Fraction(stream.time_base or Fraction(1, 90000))

    def at(packet: Packet[Stream]) -> int:
        assert packet.pts is not None
        return to_ns(packet.pts, time_base) + offset_ns

    low, high = wanted.bounds()

    def inside(ns: int) -> bool:
        return low <= ns < high

    if all(inside(at(packet)) for packet in packets):
        yield from packets
        return
    if stream.type != "video":
        yield from (packet for packet in packets if inside(at(packet)))
        return
    first = packets[0]
    delay = first.pts - first.dts if first.pts is not None and first.dts is not None else 0
    for gop in _gops(packets):
        wanted_packets = [inside(at(packet)) for packet in gop]
        if all(wanted_packets):
            yield from gop
        elif any(wanted_packets):
            frames = [
                frame
                for frame in _decode(stream, gop)
                if frame.pts is not None and inside(to_ns(frame.pts, time_base) + offset_ns)
            ]
            if frames:
                count.reencoded += len(frames)
                yield from _encode(stream, frames, time_base, delay)


def _gops(packets: list[Packet[Stream]]) -> Iterator[list[Packet[Stream]]]:
    """The packets in runs that each start at a key frame (decode order)."""
    run: list[Packet[Stream]] = []
    for packet in packets:
        if packet.is_keyframe and run:
            yield run
            run = []
        run.append(packet)
    if run:
        yield run


def _decode(stream: Stream, packets: list[Packet[Stream]]) -> Iterator[VideoFrame]:
    decoder = CodecContext.create(stream.codec_context.name, "r")
    decoder.extradata = stream.codec_context.extradata
    for packet in [*packets, None]:
        for frame in decoder.decode(packet):  # type: ignore[attr-defined]
            assert isinstance(frame, VideoFrame)
            yield frame


def _encode(
    stream: Stream, frames: list[VideoFrame], time_base: Fraction, delay: int
) -> Iterator[Packet[Stream]]:
    source = stream.codec_context.name
    try:
        encoder = CodecContext.create(source, "w")
    except (av.error.FFmpegError, ValueError):
        raise MediaError(
            f"cannot encode {source} here, so a range cutting inside a segment cannot be "
            "exported: use a range on segment boundaries"
        ) from None
    first = frames[0]
    encoder.width, encoder.height = first.width, first.height  # type: ignore[attr-defined]
    encoder.pix_fmt = first.format.name  # type: ignore[attr-defined]
    encoder.time_base = time_base
    if stream.average_rate:
        encoder.framerate = stream.average_rate  # type: ignore[attr-defined]
    encoder.options = dict(_ENCODER_OPTIONS.get(encoder.name, {}))
    for frame in [*frames, None]:
        if frame is not None:
            frame.pict_type = PictureType.NONE
            frame.time_base = time_base
        for packet in encoder.encode(frame):  # type: ignore[attr-defined]
            if packet.pts is not None:
                packet.dts = packet.pts - delay
            packet.time_base = time_base
            yield packet
