"""Splitting a media file into Segments without re-encoding: the packets of each
stream are cut at key frames about every ``segment_duration`` (one set of cut times
for every stream, so video and audio Segments line up) and each run of packets is
packaged into an Object (``tams_cli._package``: MPEG-TS, or fragmented MP4 with an
init segment)."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.packet import Packet
from av.stream import Stream

from tams_cli._media_errors import MediaError
from tams_cli._media_names import TS
from tams_cli._package import Packager, packager_for
from tams_cli._probe import Essence
from tams_cli._timing import to_ns


@dataclass(frozen=True)
class Plan:
    """Where a file is cut: ``origin_ns`` (the earliest packet, which goes to the
    start of the TAMS timeline) and the cut times, in nanoseconds of the file's
    timeline. Segment ``n`` of every stream starts at the first of its packets at or
    after ``cuts[n]`` (video: its first key frame there)."""

    origin_ns: int
    cuts: tuple[int, ...]


@dataclass(frozen=True)
class Piece:
    """One Segment's Object: the stream it carries, its number within that stream,
    where it sits on the file's timeline (``[start_ns, end_ns)``, nanoseconds after
    the plan's origin), the time of its first packet on the Object's own timeline,
    its bytes and key frame count, and the init segment it needs (fragmented MP4)."""

    stream_index: int
    number: int
    start_ns: int
    end_ns: int
    object_start_ns: int
    data: bytes
    key_frame_count: int
    init: bytes | None = None


def plan(path: Path, essences: Sequence[Essence], segment_duration: Fraction) -> Plan:
    """The cut times of ``path``: the first video essence's key frames (the first
    audio essence's packets when there is no video) at least ``segment_duration``
    apart; one pass over the packets, nothing decoded."""
    wanted = {essence.index for essence in essences}
    pilot = next((e.index for e in essences if e.kind == "video"), essences[0].index)
    step = round(segment_duration * 1_000_000_000)
    origin: int | None = None
    cuts: list[int] = []
    with _open(path) as container:
        for packet in container.demux([container.streams[i] for i in sorted(wanted)]):
            at = _pts_ns(packet)
            if at is None:
                continue
            origin = at if origin is None else min(origin, at)
            key = packet.stream.index == pilot and packet.is_keyframe
            if key and (not cuts or at - cuts[-1] >= step):
                cuts.append(at)
    if origin is None or not cuts:
        raise MediaError(f"{path} has no timestamped packets to cut")
    return Plan(origin, tuple(cuts))


def split(
    path: Path, essences: Sequence[Essence], cut_plan: Plan, container: str = TS
) -> Iterator[Piece]:
    """The Segments of every essence as each closes, packaged in ``container`` (``ts``
    or ``fmp4``); per stream they come in timeline order."""
    with _open(path) as media:
        runs = {
            e.index: _Run(
                media.streams[e.index],
                e.kind == "video",
                packager_for(container, media.streams[e.index]),
            )
            for e in essences
        }
        for packet in media.demux([run.stream for run in runs.values()]):
            run = runs.get(packet.stream.index)
            at = _pts_ns(packet)
            if run is None or at is None or packet.size == 0:
                continue
            piece = run.place(packet, at, _segment_of(cut_plan.cuts, at), cut_plan.origin_ns)
            if piece is not None:
                yield piece
        for run in runs.values():
            if run.packets:
                yield run.close(None, cut_plan.origin_ns)


class LiveCutter:
    """Cuts a stream read as it is written, in one pass (``tams ingest --live``): the
    pilot stream (the first video, else the first audio) is cut at its first key frame
    at least ``segment_duration`` after the last cut, as ``plan`` would; the other
    streams' packets wait until the pilot's decode time passes theirs, since a cut
    before them can only come from a pilot packet not yet read. Pilot packets before
    its first key frame cannot be decoded and are dropped. The origin is the earliest
    packet read before the first Segment closes."""

    def __init__(
        self,
        media: av.container.InputContainer,
        essences: Sequence[Essence],
        segment_duration: Fraction,
        container: str = TS,
    ) -> None:
        self._pilot = next((e.index for e in essences if e.kind == "video"), essences[0].index)
        self._step = round(segment_duration * 1_000_000_000)
        self.runs = {
            e.index: _Run(
                media.streams[e.index],
                e.kind == "video",
                packager_for(container, media.streams[e.index]),
            )
            for e in essences
        }
        self._cuts: list[int] = []
        self._pilot_ns: int | None = None
        self._waiting: deque[tuple[Packet[Stream], int]] = deque()
        self._origin_ns: int | None = None
        self._closed_one = False

    def feed(self, packet: Packet[Stream]) -> list[Piece]:
        """The Segments ``packet`` closes (usually none)."""
        run = self.runs.get(packet.stream.index)
        at = _pts_ns(packet)
        if run is None or at is None or packet.size == 0:
            return []
        if packet.stream.index != self._pilot:
            self._waiting.append((packet, at))
            return self._release(final=False)
        if packet.is_keyframe and (not self._cuts or at - self._cuts[-1] >= self._step):
            self._cuts.append(at)
        dts = _dts_ns(packet)
        self._pilot_ns = at if dts is None else dts
        pieces = self._release(final=False)
        if self._cuts:
            pieces += self._place(run, packet, at)
        return pieces

    def finish(self) -> list[Piece]:
        """The Segments still open once the input ends."""
        pieces = self._release(final=True)
        origin = self._origin_ns or 0
        return pieces + [run.close(None, origin) for run in self.runs.values() if run.packets]

    def _release(self, *, final: bool) -> list[Piece]:
        pieces: list[Piece] = []
        while self._waiting and (
            final or (self._pilot_ns is not None and self._waiting[0][1] < self._pilot_ns)
        ):
            packet, at = self._waiting.popleft()
            pieces += self._place(self.runs[packet.stream.index], packet, at)
        return pieces

    def _place(self, run: _Run, packet: Packet[Stream], at: int) -> list[Piece]:
        if not self._closed_one:
            self._origin_ns = at if self._origin_ns is None else min(self._origin_ns, at)
        piece = run.place(packet, at, _segment_of(self._cuts, at), self._origin_ns or 0)
        if piece is None:
            return []
        self._closed_one = True
        return [piece]


@dataclass
class _Run:
    """The packets of one stream's Segment in the making."""

    stream: Stream
    video: bool
    packager: Packager
    number: int = 0
    packets: list[Packet[Stream]] = field(default_factory=list)
    first_ns: int = 0
    end_ns: int = 0

    def place(self, packet: Packet[Stream], at: int, number: int, origin_ns: int) -> Piece | None:
        """Add ``packet`` (at ``at``, of Segment ``number``), closing the Segment so far
        first when it starts a later one (video: at a key frame)."""
        piece = None
        if self.packets and number > self.number and (packet.is_keyframe or not self.video):
            piece = self.close(at, origin_ns)
            self.number = number
        elif not self.packets:
            self.number = max(number, 0)
        self.add(packet, at)
        return piece

    def add(self, packet: Packet[Stream], at: int) -> None:
        if not self.packets:
            self.first_ns = at
        self.packets.append(packet)
        duration = to_ns(packet.duration or 0, _time_base(packet))
        self.end_ns = max(self.end_ns, at + duration)

    def close(self, next_start_ns: int | None, origin_ns: int) -> Piece:
        """The Segment of the packets so far (ending where the next one starts, or
        after its last packet); the run is emptied."""
        key_frame_count = sum(1 for p in self.packets if p.is_keyframe)
        packaged = self.packager.package(self.packets)
        piece = Piece(
            stream_index=self.stream.index,
            number=self.number,
            start_ns=self.first_ns - origin_ns,
            end_ns=(self.end_ns if next_start_ns is None else next_start_ns) - origin_ns,
            object_start_ns=packaged.object_start_ns,
            data=packaged.data,
            key_frame_count=key_frame_count,
            init=packaged.init,
        )
        self.packets = []
        self.end_ns = 0
        return piece


def _segment_of(cuts: Sequence[int], at: int) -> int:
    """The number of the Segment time ``at`` falls in; -1 before the first cut."""
    return bisect.bisect_right(cuts, at) - 1


def _pts_ns(packet: Packet[Stream]) -> int | None:
    if packet.pts is None:
        return None
    return to_ns(packet.pts, _time_base(packet))


def _dts_ns(packet: Packet[Stream]) -> int | None:
    if packet.dts is None:
        return None
    return to_ns(packet.dts, _time_base(packet))


def _time_base(packet: Packet[Stream]) -> Fraction:
    time_base = packet.time_base
    if time_base is None:
        raise MediaError("a packet has no time base")
    return Fraction(time_base)


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        raise MediaError(f"cannot read {path} as media: {error}") from error
