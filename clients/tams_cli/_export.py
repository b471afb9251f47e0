"""``tams export``: the Segments of a Flow (or of each member of a multi-essence Flow)
fetched a few at a time, written in timeline order, remuxed with PyAV into one file
whose extension names its container. Packets keep their Object timestamps shifted by
each Segment's ``ts_offset`` onto the Flow timeline, then by the export's start onto
the file's. Each Segment gives only what lies inside its own timerange and the
export's range (``tams_cli._cut``): a Segment wholly inside is remuxed as it is,
one cut by either is trimmed to the packet (audio) or the frame (video, whose cut
frames are encoded again)."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import httpx
from av.container import InputContainer, OutputContainer
from av.stream import Stream

from tams.v1 import segments_pb2
from tams_cli._cut import CutCount, cut
from tams_cli._flows import MULTI_FORMAT
from tams_cli._media_errors import MediaError, NothingToExportError
from tams_cli._timing import TimeRange, from_ns, parse_timerange, parse_timestamp, to_ns
from tams_client import AsyncTamsClient

CONTAINERS = {".ts": "mpegts", ".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportReport:
    """What was written: the file, how many Segments and packets, how many video
    frames were encoded again (at cuts inside Segments), its size, and the part of
    the Flow timeline it covers."""

    output: Path
    segments: int
    packets: int
    reencoded_frames: int
    bytes: int
    timerange: str

    def to_json(self) -> dict[str, object]:
        return {
            "output": str(self.output),
            "segments": self.segments,
            "packets": self.packets,
            "reencoded_frames": self.reencoded_frames,
            "bytes": self.bytes,
            "timerange": self.timerange,
        }


@dataclass(frozen=True)
class _Item:
    """One Segment to write: which member Flow (stream) it belongs to, where it is,
    and the part of it wanted (its timerange within the export's)."""

    member: int
    segment: segments_pb2.Segment
    range: TimeRange
    wanted: TimeRange


def container_for(path: Path) -> str:
    """The PyAV format name of ``path``'s extension; ValueError for others."""
    try:
        return CONTAINERS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(CONTAINERS)
        raise ValueError(f"cannot tell the container of {path.name}: use one of {known}") from None


async def export_flow(
    client: AsyncTamsClient,
    http: httpx.AsyncClient,
    flow_id: str,
    output: Path,
    timerange: str | None,
    concurrency: int,
    progress: ProgressFn | None = None,
) -> ExportReport:
    """Write the Segments of ``flow_id`` overlapping ``timerange`` (all when None) to
    ``output``; a multi-essence Flow's members become the file's streams."""
    fmt = container_for(output)
    flow = await client.get_flow(flow_id)
    members = (
        [item.id for item in flow.flow_collection] if flow.format == MULTI_FORMAT else [flow_id]
    )
    asked = parse_timerange(timerange) if timerange else TimeRange(None, None)
    items: list[_Item] = []
    for member, member_id in enumerate(members):
        async for segment in client.list_segments(member_id, timerange=timerange):
            span = parse_timerange(segment.timerange)
            wanted = span.intersection(asked)
            if not wanted.empty:
                items.append(_Item(member, segment, span, wanted))
    if not items:
        where = f" in {timerange}" if timerange else ""
        raise NothingToExportError(f"flow {flow_id} has no segments{where}")
    present = {item.member for item in items}
    items.sort(key=lambda item: (item.wanted.start or 0, item.member))
    origin = min(item.wanted.start or 0 for item in items)
    end = max(item.wanted.end or 0 for item in items)
    partial = output.with_name(output.name + ".partial")
    writer = _Writer(partial, fmt, origin, [m for m in range(len(members)) if m in present])
    inits = await _fetch_inits(http, items)
    try:
        done = 0
        async for item, data in _fetch_in_order(http, items, concurrency):
            init = inits.get(item.segment.init_object.object_id, b"")
            await asyncio.to_thread(writer.write, item, init + data)
            done += 1
            if progress is not None:
                progress(done, len(items))
        await asyncio.to_thread(writer.close)
        os.replace(partial, output)
    finally:
        writer.discard()
        partial.unlink(missing_ok=True)
    size = (await asyncio.to_thread(output.stat)).st_size
    return ExportReport(
        output, len(items), writer.packets, writer.cuts.reencoded, size, str(TimeRange(origin, end))
    )


async def _fetch_in_order(
    http: httpx.AsyncClient, items: Sequence[_Item], concurrency: int
) -> AsyncIterator[tuple[_Item, bytes]]:
    """Each Segment's bytes in the order of ``items``, ``concurrency`` downloads
    running ahead of the one being written."""
    pending: list[tuple[_Item, asyncio.Task[bytes]]] = []
    upcoming = iter(items)
    try:
        for item in upcoming:
            pending.append((item, asyncio.create_task(_download(http, item.segment))))
            if len(pending) >= concurrency:
                break
        while pending:
            item, task = pending.pop(0)
            data = await task
            following = next(upcoming, None)
            if following is not None:
                pending.append((following, asyncio.create_task(_download(http, following.segment))))
            yield item, data
    finally:
        for _, task in pending:
            task.cancel()


async def _fetch_inits(http: httpx.AsyncClient, items: Sequence[_Item]) -> dict[str, bytes]:
    """The bytes of each init Object the Segments use (fragmented MP4: one per Flow),
    fetched once; a Segment is demuxed with its init segment before it."""
    inits: dict[str, bytes] = {}
    for item in items:
        init = item.segment.init_object
        if init.object_id and init.object_id not in inits:
            if not init.get_urls:
                raise MediaError(f"init object {init.object_id} has no download URL")
            response = await http.get(init.get_urls[0].url)
            response.raise_for_status()
            inits[init.object_id] = response.content
    return inits


async def _download(http: httpx.AsyncClient, segment: segments_pb2.Segment) -> bytes:
    if not segment.get_urls:
        raise MediaError(f"segment {segment.timerange} has no download URL")
    response = await http.get(segment.get_urls[0].url)
    response.raise_for_status()
    return response.content


class _Writer:
    """The output file: its streams are set up from the first Segment of each member,
    then every Segment's packets are shifted onto the file's timeline and muxed."""

    def __init__(self, path: Path, fmt: str, origin_ns: int, members: list[int]) -> None:
        self._path = path
        self._fmt = fmt
        self._origin_ns = origin_ns
        self._members = members
        self._waiting: list[tuple[_Item, bytes]] = []
        self._streams: dict[int, Stream] = {}
        self._templates: list[InputContainer] = []
        self._output: OutputContainer | None = None
        self.packets = 0
        self.cuts = CutCount()

    def write(self, item: _Item, data: bytes) -> None:
        """Mux one Segment; the first ones wait until every member has one, so the
        file's streams are known before anything is written."""
        if self._output is None:
            self._waiting.append((item, data))
            if {waiting.member for waiting, _ in self._waiting} != set(self._members):
                return
            self._open()
            waiting, self._waiting = self._waiting, []
            for queued, queued_data in waiting:
                self._mux(queued, queued_data)
            return
        self._mux(item, data)

    def close(self) -> None:
        """Write what is still waiting (members without Segments are left out) and
        finish the file."""
        if self._output is None and self._waiting:
            self._members = sorted({item.member for item, _ in self._waiting})
            self.write(*self._waiting.pop())
        self.discard()

    def discard(self) -> None:
        """Close whatever is open (all that ``close`` still has to do once everything is
        written; after a failure, all there is to do)."""
        if self._output is not None:
            self._output.close()
            self._output = None
        for template in self._templates:
            template.close()
        self._templates = []

    def _open(self) -> None:
        output = av.open(str(self._path), "w", format=self._fmt)
        for member in self._members:
            data = next(d for item, d in self._waiting if item.member == member)
            template = av.open(io.BytesIO(data), "r")
            self._templates.append(template)
            self._streams[member] = output.add_stream_from_template(template.streams[0])
        self._output = output

    def _mux(self, item: _Item, data: bytes) -> None:
        assert self._output is not None
        offset_ns = parse_timestamp(item.segment.ts_offset) if item.segment.ts_offset else 0
        stream = self._streams[item.member]
        with av.open(io.BytesIO(data), "r") as segment:
            source = segment.streams[0]
            packets = [p for p in segment.demux(source) if p.size and p.pts is not None]
            if not packets:
                return
            for packet in cut(source, packets, offset_ns, item.wanted, self.cuts):
                if packet.pts is None:
                    continue
                time_base = Fraction(packet.time_base or source.time_base or Fraction(1, 90000))
                packet.pts = self._shift(packet.pts, time_base, offset_ns)
                if packet.dts is not None:
                    packet.dts = self._shift(packet.dts, time_base, offset_ns)
                packet.stream = stream
                self._output.mux(packet)
                self.packets += 1

    def _shift(self, value: int, time_base: Fraction, offset_ns: int) -> int:
        return from_ns(to_ns(value, time_base) + offset_ns - self._origin_ns, time_base)
