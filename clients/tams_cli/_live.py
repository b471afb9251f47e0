"""``tams ingest --live``: ingest a stream as it is written (a growing file, or an
encoder's output on stdin), registering each Segment as soon as it closes.

A reader thread demuxes the input and cuts it (``LiveCutter``); each closed Segment
is uploaded straight away, a few at a time, and each Flow's Segments are registered
in order by a task of their own. The start on the TAMS timeline is ``now`` unless
``--start`` says otherwise.

Resuming: a growing file can be read again, so a second run goes on like a file
ingest (same journal, same start, the Segments the store has are skipped). Standard
input cannot be read again: its Segments are spooled beside the journal as they are
cut and deleted once registered, so a second run registers what the first had cut
but not registered, then ingests its own input into the same Flows from its own
start (``now``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import av

from tams.v1 import segments_pb2
from tams_cli import _journal
from tams_cli._flows import FORMATS
from tams_cli._ingest import (
    PAUSE_AFTER_ENV,
    IngestOptions,
    IngestReport,
    ProgressFn,
    create_flows,
    ensure_inits,
    new_entry,
    pause_for_test,
    present_ranges,
    report_of,
    segment_range,
)
from tams_cli._media_errors import IngestIncompleteError, MediaError
from tams_cli._probe import Essence, essences_of
from tams_cli._split import LiveCutter, Piece
from tams_cli._tail import GrowingFile
from tams_cli._timing import format_timestamp, parse_start, parse_timerange
from tams_client import AsyncTamsClient

STDIN = "-"
_END = None


@dataclass(frozen=True)
class _Spooled:
    """A Segment cut from standard input and kept on disk until registered."""

    flow_id: str
    timerange: str
    ts_offset: str
    key_frame_count: int
    init_object_id: str | None
    data: Path


async def ingest_live(
    client: AsyncTamsClient,
    target: str,
    source: str,
    options: IngestOptions,
    idle_timeout: float,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Ingest ``source`` (a path, or ``-`` for standard input) as it is written."""
    began = time.monotonic()
    from_stdin = source == STDIN
    name = "stdin" if from_stdin else source
    journal_file = _journal.journal_path(Path(name), options.journal_dir)
    stop = threading.Event()
    queue: asyncio.Queue[Piece | None] = asyncio.Queue(maxsize=4 * options.concurrency)
    reader = _Reader(_open_input(source, idle_timeout, stop), name, options, stop)
    try:
        essences = await reader.start(asyncio.get_running_loop(), queue)
        identity = _identity(source)
        entry, resumed = _entry(journal_file, identity, target, essences, options, from_stdin)
        if entry.complete:  # a finished ingest of a file run again: nothing to do
            return await report_of(client, entry, 0, resumed, began)
        sink = _Sink(client, entry, journal_file, options.concurrency, progress)
        spool = journal_file.with_name(journal_file.name + ".spool") if from_stdin else None
        if spool is not None and entry.flows_created:
            spooled_end = await sink.flush_spool(spool)
            if resumed and options.start.strip().lower() == "now":
                # After what the Flows hold: an input read faster than real time ends later.
                end = max(spooled_end, await _flows_end(client, sink.flow_ids))
                sink.entry = replace(sink.entry, start_ns=max(sink.entry.start_ns, end))
                _journal.save(journal_file, sink.entry)
        present = (
            await present_ranges(client, sink.flow_ids)
            if resumed and entry.flows_created and not from_stdin
            else {}
        )
        while (piece := await queue.get()) is not _END:
            if not sink.entry.flows_created:  # not before: an unreadable input leaves nothing
                await create_flows(client, sink.entry, essences, options, Path(name).stem)
                sink.entry = replace(sink.entry, flows_created=True)
                _journal.save(journal_file, sink.entry)
            flow_id = sink.flows[piece.stream_index]
            if segment_range(sink.entry, piece) not in present.get(flow_id, set()):
                await sink.add(piece, spool)
        await reader.finished()
        if not sink.entry.flows_created:
            raise MediaError(f"{name} ended before a Segment could be cut from it")
        await sink.close()
        _journal.save(journal_file, replace(sink.entry, complete=True))
        return await report_of(client, sink.entry, sink.registered, resumed, began)
    finally:
        stop.set()


async def _flows_end(client: AsyncTamsClient, flow_ids: Sequence[str]) -> int:
    """The latest end of the Flows' Segments (0 when they have none)."""
    end = 0
    for flow_id in flow_ids:
        flow = await client.get_flow(flow_id, include_timerange=True)
        if flow.timerange:
            end = max(end, parse_timerange(flow.timerange).end or 0)
    return end


def _identity(source: str) -> _journal.FileIdentity:
    """What names a live input in its journal: its path (its size and time change as
    it grows), or ``-``."""
    return _journal.FileIdentity(source if source == STDIN else str(Path(source).resolve()), -1, -1)


def _open_input(source: str, idle_timeout: float, stop: threading.Event) -> BinaryIO:
    if source == STDIN:
        return sys.stdin.buffer
    return GrowingFile(Path(source), idle_timeout, stop)  # type: ignore[return-value]


def _entry(
    journal_file: Path,
    identity: _journal.FileIdentity,
    target: str,
    essences: Sequence[Essence],
    options: IngestOptions,
    from_stdin: bool,
) -> tuple[_journal.Entry, bool]:
    """The journal to go on with (and True), or a new one (and False). Standard input
    goes on, into the same Flows from its own start, only after an interrupted run: a
    new stream after a finished one is a new ingest."""
    duration = str(options.segment_duration)
    if not options.fresh:
        entry = _journal.load(journal_file)
        if entry is not None and from_stdin and entry.complete:
            entry = None
        if entry is not None and entry.matches(identity, target, duration, options.container):
            kinds = {index: fmt for index, (_, _, fmt) in entry.flows.items()}
            if kinds != {str(e.index): FORMATS[e.kind] for e in essences}:
                raise MediaError(
                    f"the input's streams differ from those the journal {journal_file} "
                    "ingested; use --fresh to ingest it into new Flows"
                )
            if from_stdin:
                entry = replace(entry, start_ns=parse_start(options.start))
                _journal.save(journal_file, entry)
            return entry, True
    entry = new_entry(identity, target, essences, options)
    _journal.save(journal_file, entry)
    return entry, False


class _Reader:
    """The thread that demuxes and cuts the input, handing each closed Segment to the
    event loop (waiting when the uploads fall behind). A daemon: an interrupted
    ingest does not wait for a read of standard input that may never return."""

    def __init__(
        self, file: BinaryIO, name: str, options: IngestOptions, stop: threading.Event
    ) -> None:
        self._file = file
        self._name = name
        self._options = options
        self._stop = stop
        self._essences: asyncio.Future[Any] | None = None
        self._done: asyncio.Future[Any] | None = None

    async def start(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Piece | None]
    ) -> list[Essence]:
        """Start reading; the input's essences once it is open."""
        self._essences = loop.create_future()
        self._done = loop.create_future()
        thread = threading.Thread(
            target=self._run, args=(loop, queue), name="tams-live-reader", daemon=True
        )
        thread.start()
        essences: list[Essence] = await self._essences
        return essences

    async def finished(self) -> None:
        """Wait for the end of the input; its error, if reading failed."""
        assert self._done is not None
        await self._done

    def _run(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Piece | None]) -> None:
        def put(item: Piece | None) -> None:
            asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

        try:
            with av.open(self._file, "r") as media:
                essences = essences_of(media, self._name)
                loop.call_soon_threadsafe(_settle, self._essences, essences)
                cutter = LiveCutter(
                    media, essences, self._options.segment_duration, self._options.container
                )
                streams = [media.streams[e.index] for e in essences]
                for packet in media.demux(streams):
                    for piece in cutter.feed(packet):
                        put(piece)
                    if self._stop.is_set():
                        break
                for piece in cutter.finish():
                    put(piece)
            put(_END)
            loop.call_soon_threadsafe(_settle, self._done, None)
        except (av.FFmpegError, OSError) as error:
            failure = MediaError(
                f"cannot read {self._name} as media as it is written: {error} (--live reads "
                "streamable containers, such as MPEG-TS)"
            )
            self._fail(loop, queue, failure)
        except Exception as error:
            self._fail(loop, queue, error)

    def _fail(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[Piece | None],
        error: Exception,
    ) -> None:
        # The loop may be closed already (the ingest ended without this thread).
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._settle_failure, error)
            asyncio.run_coroutine_threadsafe(queue.put(_END), loop)

    def _settle_failure(self, error: Exception) -> None:
        """Fail whichever the ingest waits for: the opening, or else the end (failing
        both would leave one exception never retrieved)."""
        if self._essences is not None and not self._essences.done():
            self._essences.set_exception(error)
        else:
            _settle(self._done, None, error)


def _settle(
    future: asyncio.Future[Any] | None, value: object, error: BaseException | None = None
) -> None:
    if future is None or future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class _Sink:
    """Uploads each Segment as it comes (``concurrency`` at once) and registers each
    Flow's Segments in order, one task per Flow."""

    def __init__(
        self,
        client: AsyncTamsClient,
        entry: _journal.Entry,
        journal_file: Path,
        concurrency: int,
        progress: ProgressFn | None,
    ) -> None:
        self.entry = entry
        self.flows = {int(index): flow_id for index, (flow_id, _, _) in entry.flows.items()}
        self.flow_ids = list(self.flows.values())
        self.registered = 0
        self._client = client
        self._journal_file = journal_file
        self._limit = asyncio.Semaphore(concurrency)
        self._progress = progress
        self._pause_after = int(os.environ.get(PAUSE_AFTER_ENV, "0"))
        self._queues: dict[str, asyncio.Queue[tuple[_Spooled, asyncio.Task[str]] | None]] = {}
        self._registrars: list[asyncio.Task[None]] = []
        self._failures: list[str] = []

    async def add(self, piece: Piece, spool: Path | None) -> None:
        """Start the upload of ``piece`` (its Flow's init Object first, once) and queue
        its registration."""
        flow_id = self.flows[piece.stream_index]
        self.entry = await ensure_inits(
            self._client, self.entry, self._journal_file, self.flows, [piece]
        )
        start = self.entry.start_ns + piece.start_ns
        item = _Spooled(
            flow_id=flow_id,
            timerange=str(segment_range(self.entry, piece)),
            ts_offset=format_timestamp(start - piece.object_start_ns),
            key_frame_count=piece.key_frame_count,
            init_object_id=None if piece.init is None else self.entry.init_objects[flow_id],
            data=Path(),
        )
        if spool is not None:
            item = await asyncio.to_thread(_spool, spool, piece, item)
        await self._queue(item, piece.data)

    async def flush_spool(self, spool: Path) -> int:
        """Register the Segments an earlier run cut from standard input but did not
        register (those the store has already are only deleted); the latest end of
        those queued (0 when none)."""
        items = await asyncio.to_thread(_spooled, spool)
        if not items:
            return 0
        present = await present_ranges(self._client, self.flow_ids)
        end = 0
        for item in items:
            timerange = parse_timerange(item.timerange)
            if timerange in present.get(item.flow_id, set()):
                await asyncio.to_thread(_unspool, item)
                continue
            data = await asyncio.to_thread(item.data.read_bytes)
            await self._queue(item, data)
            end = max(end, timerange.end or 0)
        return end

    async def close(self) -> None:
        """Wait for every registration; IngestIncompleteError if any failed."""
        for queue in self._queues.values():
            await queue.put(None)
        await asyncio.gather(*self._registrars)
        if self._failures:
            raise IngestIncompleteError(
                f"{len(self._failures)} Segment(s) were not registered (first: "
                f"{self._failures[0]}); run the same command again to resume"
            )

    async def _queue(self, item: _Spooled, data: bytes) -> None:
        queue = self._queues.get(item.flow_id)
        if queue is None:
            queue = self._queues[item.flow_id] = asyncio.Queue()
            self._registrars.append(asyncio.create_task(self._register(item.flow_id, queue)))
        await queue.put((item, asyncio.create_task(self._upload(item.flow_id, data))))

    async def _upload(self, flow_id: str, data: bytes) -> str:
        async with self._limit:
            return await self._client.upload_object(flow_id, data)

    async def _register(
        self, flow_id: str, queue: asyncio.Queue[tuple[_Spooled, asyncio.Task[str]] | None]
    ) -> None:
        while (queued := await queue.get()) is not None:
            item, upload = queued
            try:
                object_id = await upload
                post = segments_pb2.SegmentPost(
                    object_id=object_id,
                    timerange=item.timerange,
                    ts_offset=item.ts_offset,
                    key_frame_count=item.key_frame_count,
                )
                if item.init_object_id is not None:
                    post.init_object_id = item.init_object_id
                response = await self._client.register_segments(flow_id, [post])
            except Exception as error:
                self._failures.append(f"{item.timerange}: {error}")
                continue
            if response.failed_segments:
                failed = response.failed_segments[0].error
                self._failures.append(f"{item.timerange}: {failed.reason} {failed.message}")
                continue
            if item.data != Path():
                await asyncio.to_thread(_unspool, item)
            self.registered += 1
            if self._progress is not None:
                self._progress(self.registered, self.registered)
            if self._pause_after and self.registered == self._pause_after:
                await pause_for_test()  # this Flow's registrar only: the others go on


def _spool(spool: Path, piece: Piece, item: _Spooled) -> _Spooled:
    """Keep ``piece`` on disk (bytes, then its description) until it is registered."""
    spool.mkdir(parents=True, exist_ok=True)
    stem = spool / f"{time.time_ns():020d}-{piece.stream_index}-{piece.number:08d}"
    data = stem.with_suffix(".bin")
    data.write_bytes(piece.data)
    item = replace(item, data=data)
    described = {k: v for k, v in item.__dict__.items() if k != "data"}
    temporary = stem.with_suffix(".tmp")
    temporary.write_text(json.dumps(described))
    os.replace(temporary, stem.with_suffix(".json"))
    return item


def _spooled(spool: Path) -> list[_Spooled]:
    """The spooled Segments, oldest first (a description without its bytes, or the
    reverse, is what a crash mid-write leaves: deleted)."""
    if not spool.is_dir():
        return []
    items: list[_Spooled] = []
    for described in sorted(spool.glob("*.json")):
        data = described.with_suffix(".bin")
        if not data.is_file():
            described.unlink()
            continue
        items.append(_Spooled(**json.loads(described.read_text()), data=data))
    kept = {item.data for item in items}
    for leftover in [*spool.glob("*.bin"), *spool.glob("*.tmp")]:
        if leftover not in kept:
            leftover.unlink()
    return items


def _unspool(item: _Spooled) -> None:
    item.data.unlink(missing_ok=True)
    item.data.with_suffix(".json").unlink(missing_ok=True)
