"""How one stream's run of packets becomes a Segment's Object, without re-encoding:
an MPEG-TS Object of its own, or a fragmented MP4 fragment with the stream's init
segment (``tams_cli._fmp4``). One packager per stream, fed its Segments in order."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import av
from av.packet import Packet
from av.stream import Stream

from tams_cli._media_errors import MediaError
from tams_cli._media_names import CONTAINERS, FMP4, TS
from tams_cli._timing import to_ns

TS_FORMAT = "mpegts"


@dataclass(frozen=True)
class Packaged:
    """A Segment's Object: its bytes, the time of its first packet on the Object's own
    timeline (nanoseconds; the muxer may shift timestamps), and the init segment it
    needs before it to be decoded (None for MPEG-TS)."""

    data: bytes
    object_start_ns: int
    init: bytes | None = None


class Packager(Protocol):
    """Turns one stream's Segments, in timeline order, into Objects."""

    def package(self, packets: Sequence[Packet[Stream]]) -> Packaged:
        """The Object of ``packets`` (consumed: their data may move)."""
        ...


class TsPackager:
    """Each Segment as an MPEG-TS Object of its own."""

    def __init__(self, template: Stream) -> None:
        self._template = template

    def package(self, packets: Sequence[Packet[Stream]]) -> Packaged:
        buffer = io.BytesIO()
        with av.open(buffer, "w", format=TS_FORMAT) as output:
            stream = output.add_stream_from_template(self._template)
            for packet in packets:
                packet.stream = stream
                output.mux(packet)
        data = buffer.getvalue()
        with av.open(io.BytesIO(data), "r", format=TS_FORMAT) as written:
            for packet in written.demux(written.streams[0]):
                if packet.pts is not None and packet.time_base is not None:
                    return Packaged(data, to_ns(packet.pts, Fraction(packet.time_base)))
        raise MediaError("the remuxed Segment has no timestamped packet")


def packager_for(container: str, template: Stream) -> Packager:
    """The packager of ``container`` (``ts`` or ``fmp4``) for ``template``'s stream."""
    if container == FMP4:
        from tams_cli._fmp4 import Fmp4Packager

        return Fmp4Packager(template)
    if container == TS:
        return TsPackager(template)
    raise ValueError(f"unknown container {container!r}; use one of {', '.join(CONTAINERS)}")
