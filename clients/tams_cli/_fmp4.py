"""Fragmented MP4 packaging: one stream's Segment as ``moof``+``mdat`` fragments and the
stream's init segment (``ftyp``+``moov``), without re-encoding.

PyAV cannot ask FFmpeg's MP4 muxer to cut a fragment on demand, so each Segment is
muxed by a muxer of its own (``empty_moov``: the header is the init segment, written
before any sample) and the bytes are cut at the first ``moof``. Three settings make
the pieces one stream again:

- ``frag_discont`` with ``use_editlist=0`` and ``avoid_negative_ts=disabled``: each
  fragment's decode time (``tfdt``) is its first packet's own, not 0, so init +
  every fragment in order is one continuous fMP4 stream;
- ``skip_trailer``: no ``mfra`` index, whose offsets hold only within one muxer's file;
- a constant per-stream shift (the first packet's negative decode time, if any),
  since ``tfdt`` is unsigned.

The init segments of a stream's Segments must be byte for byte the same (one init
Object per Flow): the packager checks it and stops with a MediaError otherwise.
ADTS AAC (from MPEG-TS) has no codec configuration outside its packets; the
``aac_adtstoasc`` filter gives it (the MP4 muxer needs it in the ``moov``)."""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from fractions import Fraction

import av
from av.bitstream import BitStreamFilterContext
from av.packet import Packet, PacketSideData
from av.stream import Stream

from tams_cli._media_errors import MediaError
from tams_cli._package import Packaged
from tams_cli._timing import to_ns

MP4_OPTIONS = {
    "movflags": "empty_moov+default_base_moof+frag_custom+frag_discont+skip_trailer",
    "use_editlist": "0",
    "avoid_negative_ts": "disabled",
}


class Fmp4Packager:
    """Packages the Segments of one stream, in timeline order."""

    def __init__(self, template: Stream) -> None:
        self._template = template
        self._shift: int | None = None
        self._init: bytes | None = None
        self._asc: bytes | None = None
        self._adts: BitStreamFilterContext | None = None
        context = template.codec_context
        # The demuxer refines its bit rate estimate as it reads; the init segment's
        # (esds, btrt) must not follow it.
        self._bit_rate = (context.bit_rate if context is not None else 0) or 0
        if context is not None and context.name == "aac" and not context.extradata:
            self._adts = BitStreamFilterContext("aac_adtstoasc", in_stream=template)

    def package(self, packets: Sequence[Packet[Stream]]) -> Packaged:
        """The fragment (``moof``+``mdat``) of ``packets`` and the init segment."""
        if not packets:
            raise ValueError("a Segment has at least one packet")
        if self._shift is None:
            first = packets[0].dts if packets[0].dts is not None else packets[0].pts
            self._shift = max(0, -(first or 0))
        ready = self._filtered(packets)
        buffer = io.BytesIO()
        try:
            with av.open(buffer, "w", format="mp4", options=MP4_OPTIONS) as output:
                stream = output.add_stream_from_template(self._template)
                if stream.codec_context is not None:
                    stream.codec_context.bit_rate = self._bit_rate
                    if self._asc is not None:
                        stream.codec_context.extradata = self._asc
                for packet in ready:
                    if packet.pts is not None:
                        packet.pts += self._shift
                    if packet.dts is not None:
                        packet.dts += self._shift
                    packet.stream = stream
                    output.mux(packet)
        except av.FFmpegError as error:
            raise MediaError(f"cannot write this stream as fragmented MP4: {error}") from error
        init, data = split_init(buffer.getvalue())
        if self._init is None:
            self._init = init
        elif init != self._init:
            raise MediaError(
                "the stream's codec parameters change within the file (its MP4 init segment "
                "differs from the first one); ingest it with --container ts"
            )
        return Packaged(data, first_pts_ns(init + data), init)

    def _filtered(self, packets: Sequence[Packet[Stream]]) -> list[Packet[Stream]]:
        if self._adts is None:
            return list(packets)
        ready = [out for packet in packets for out in self._adts.filter(packet)]
        if self._asc is None and ready:
            side = PacketSideData.from_packet(ready[0], "new_extradata")
            if side:
                self._asc = bytes(side)
        return ready


def split_init(data: bytes) -> tuple[bytes, bytes]:
    """``data`` (a fragmented MP4 file) cut before its first ``moof`` box: the init
    segment and the fragments. MediaError when it has no ``moof``."""
    at = 0
    while at + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        if kind == b"moof":
            return data[:at], data[at:]
        if size == 1 and at + 16 <= len(data):  # a 64-bit size follows the type
            (size,) = struct.unpack_from(">Q", data, at + 8)
        if size < 8:
            break
        at += size
    raise MediaError("the muxer wrote no MP4 fragment")


def first_pts_ns(data: bytes) -> int:
    """The time of the first timestamped packet of ``data`` (an MP4 stream) on its own
    timeline, in nanoseconds."""
    with av.open(io.BytesIO(data), "r", format="mp4") as written:
        for packet in written.demux(written.streams[0]):
            if packet.pts is not None and packet.time_base is not None:
                return to_ns(packet.pts, Fraction(packet.time_base))
    raise MediaError("the fragmented MP4 Segment has no timestamped packet")
