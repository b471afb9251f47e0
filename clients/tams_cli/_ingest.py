"""``tams ingest``: probe a file, create its Source and Flows, split it into Segments
without re-encoding, upload them a few at a time and register them in order; a
journal makes an interrupted ingest continue where it stopped."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from tams_cli import _journal
from tams_cli._flows import FORMATS, MULTI_FORMAT, FlowIds, essence_flow, multi_flow
from tams_cli._media_errors import IngestIncompleteError
from tams_cli._media_names import TS
from tams_cli._probe import Essence, probe
from tams_cli._split import Piece, plan, split
from tams_cli._timing import TimeRange, format_timestamp, parse_start, parse_timerange
from tams_client import AsyncTamsClient, MediaSegment

# Test hook: after this many Segments are registered (and the journal written) the
# ingest stops and waits, so a test can kill the process at a known point.
PAUSE_AFTER_ENV = "TAMS_INGEST_PAUSE_AFTER"

ProgressFn = Callable[[int, int], None]
"""Called with (Segments in, Segments expected) as the ingest goes."""


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest: segment length, ids and label, where the file starts on the TAMS
    timeline (``now`` or a TAI timestamp), where the journal goes, whether to ignore an
    existing journal, how many uploads run at once, and the Segments' container
    (``ts`` or ``fmp4``)."""

    segment_duration: Fraction = Fraction(2)
    source_id: str | None = None
    label: str | None = None
    start: str = "0:0"
    journal_dir: Path | None = None
    fresh: bool = False
    concurrency: int = 4
    container: str = TS


@dataclass(frozen=True)
class IngestReport:
    """What the ingest left in the store: the multi-essence Source, the Flows (the
    multi-essence one first) with their formats, the Segments registered in all, how
    many of them this run registered, and whether it continued an earlier run."""

    source_id: str
    flows: list[tuple[str, str]]
    segments: int
    registered_now: int
    resumed: bool
    start: str
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {
            "source_id": self.source_id,
            "flows": [{"id": flow_id, "format": fmt} for flow_id, fmt in self.flows],
            "segments": self.segments,
            "registered_now": self.registered_now,
            "resumed": self.resumed,
            "start": self.start,
        }


async def ingest(
    client: AsyncTamsClient,
    target: str,
    path: Path,
    options: IngestOptions,
    progress: ProgressFn | None = None,
) -> IngestReport:
    """Ingest ``path`` into the store behind ``client`` (``target`` names that store
    in the journal)."""
    began = time.monotonic()
    essences = await asyncio.to_thread(probe, path)
    journal_file = _journal.journal_path(path, options.journal_dir)
    entry, resumed = _entry(path, target, essences, options, journal_file)
    if not entry.flows_created:
        await create_flows(client, entry, essences, options, path.stem)
        entry = replace(entry, flows_created=True)
        _journal.save(journal_file, entry)
    flows = {int(index): flow_id for index, (flow_id, _, _) in entry.flows.items()}
    present = await present_ranges(client, list(flows.values())) if resumed else {}
    registered_now = 0
    if not entry.complete:
        cut_plan = await asyncio.to_thread(plan, path, essences, options.segment_duration)
        expected = len(cut_plan.cuts) * len(essences)
        done = sum(len(ranges) for ranges in present.values())
        if progress is not None:
            progress(done, expected)
        pause_after = int(os.environ.get(PAUSE_AFTER_ENV, "0"))
        pieces = split(path, essences, cut_plan, options.container)
        batches = _batches(pieces, options.concurrency)
        while (batch := await asyncio.to_thread(next, batches, None)) is not None:
            todo = [
                piece
                for piece in batch
                if segment_range(entry, piece) not in present.get(flows[piece.stream_index], set())
            ]
            entry = await ensure_inits(client, entry, journal_file, flows, todo)
            count = await _upload(client, entry, flows, todo, options.concurrency)
            registered_now += count
            done += len(batch)
            if progress is not None:
                progress(done, max(expected, done))
            if pause_after and registered_now >= pause_after:
                await pause_for_test()
        entry = replace(entry, complete=True)
        _journal.save(journal_file, entry)
    return await report_of(client, entry, registered_now, resumed, began)


async def report_of(
    client: AsyncTamsClient,
    entry: _journal.Entry,
    registered_now: int,
    resumed: bool,
    began: float,
) -> IngestReport:
    """The report of an ingest: what the store holds now for the journal's Flows."""
    flow_ids = [flow_id for flow_id, _, _ in entry.flows.values()]
    segments = sum(len(ranges) for ranges in (await present_ranges(client, flow_ids)).values())
    return IngestReport(
        source_id=entry.source_id,
        flows=[(entry.multi_flow_id, MULTI_FORMAT)]
        + [(flow_id, fmt) for flow_id, _, fmt in entry.flows.values()],
        segments=segments,
        registered_now=registered_now,
        resumed=resumed,
        start=format_timestamp(entry.start_ns),
        seconds=time.monotonic() - began,
    )


def _entry(
    path: Path,
    target: str,
    essences: Sequence[Essence],
    options: IngestOptions,
    journal_file: Path,
) -> tuple[_journal.Entry, bool]:
    """The journal to go on with (and True), or a new one (and False)."""
    identity = _journal.FileIdentity.of(path)
    duration = str(options.segment_duration)
    if not options.fresh:
        entry = _journal.load(journal_file)
        if entry is not None and entry.matches(identity, target, duration, options.container):
            return entry, True
    entry = new_entry(identity, target, essences, options)
    _journal.save(journal_file, entry)
    return entry, False


def new_entry(
    identity: _journal.FileIdentity,
    target: str,
    essences: Sequence[Essence],
    options: IngestOptions,
) -> _journal.Entry:
    """The journal of a new ingest: new ids, the start on the TAMS timeline fixed."""
    return _journal.Entry(
        file=identity,
        target=target,
        segment_duration=str(options.segment_duration),
        start_ns=parse_start(options.start),
        source_id=options.source_id or str(uuid.uuid4()),
        multi_flow_id=str(uuid.uuid4()),
        flows={
            str(e.index): [str(uuid.uuid4()), str(uuid.uuid4()), FORMATS[e.kind]] for e in essences
        },
        container=options.container,
    )


async def create_flows(
    client: AsyncTamsClient,
    entry: _journal.Entry,
    essences: Sequence[Essence],
    options: IngestOptions,
    name: str,
) -> None:
    """Create (or, after a crash, create again: PUT is idempotent) the Flows, the
    members before the multi-essence Flow that collects them; labelled ``name``
    unless the options give a label."""
    ids = FlowIds(
        entry.source_id,
        entry.multi_flow_id,
        {int(i): (flow_id, source_id) for i, (flow_id, source_id, _) in entry.flows.items()},
    )
    label = options.label or name
    duration, container = options.segment_duration, options.container
    for essence in essences:
        await client.put_flow(essence_flow(essence, ids, label, duration, container))
    await client.put_flow(multi_flow(list(essences), ids, label, duration, container))


async def present_ranges(
    client: AsyncTamsClient, flow_ids: Sequence[str]
) -> dict[str, set[TimeRange]]:
    """The timeranges of the Segments each Flow has."""
    present: dict[str, set[TimeRange]] = {}
    for flow_id in flow_ids:
        ranges = present.setdefault(flow_id, set())
        async for segment in client.list_segments(flow_id):
            ranges.add(parse_timerange(segment.timerange))
    return present


async def ensure_inits(
    client: AsyncTamsClient,
    entry: _journal.Entry,
    journal_file: Path,
    flows: dict[int, str],
    pieces: Sequence[Piece],
) -> _journal.Entry:
    """The journal with an init Object for each Flow of ``pieces`` that needs one: the
    one an earlier run uploaded (same file, same bytes), else uploaded now, once per
    Flow, and journalled before any Segment uses it."""
    for piece in pieces:
        flow_id = flows[piece.stream_index]
        if piece.init is None or flow_id in entry.init_objects:
            continue
        object_id = await client.upload_object(flow_id, piece.init)
        entry = replace(entry, init_objects={**entry.init_objects, flow_id: object_id})
        _journal.save(journal_file, entry)
    return entry


async def _upload(
    client: AsyncTamsClient,
    entry: _journal.Entry,
    flows: dict[int, str],
    pieces: Sequence[Piece],
    concurrency: int,
) -> int:
    """Upload and register ``pieces``, each Flow's in order, the Flows side by side;
    how many were registered. IngestIncompleteError if any was not."""
    by_flow: dict[str, list[MediaSegment]] = {}
    for piece in pieces:
        start = entry.start_ns + piece.start_ns
        by_flow.setdefault(flows[piece.stream_index], []).append(
            MediaSegment(
                timerange=str(segment_range(entry, piece)),
                content=piece.data,
                ts_offset=format_timestamp(start - piece.object_start_ns),
                key_frame_count=piece.key_frame_count,
                init_object_id=(
                    None if piece.init is None else entry.init_objects[flows[piece.stream_index]]
                ),
            )
        )
    results = await asyncio.gather(
        *(
            client.upload_segments(flow_id, segments, concurrency=concurrency)
            for flow_id, segments in by_flow.items()
        )
    )
    failures = [failure for result in results for failure in result.failures]
    if failures:
        first = failures[0]
        raise IngestIncompleteError(
            f"{len(failures)} Segment(s) were not registered (first: {first.timerange}: "
            f"{first.reason} {first.message}); run the same command again to resume"
        )
    return sum(result.registered_count for result in results)


def segment_range(entry: _journal.Entry, piece: Piece) -> TimeRange:
    return TimeRange(entry.start_ns + piece.start_ns, entry.start_ns + piece.end_ns)


def _batches(pieces: Iterator[Piece], size: int) -> Iterator[list[Piece]]:
    batch: list[Piece] = []
    for piece in pieces:
        batch.append(piece)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def pause_for_test() -> None:
    print("tams ingest: paused (test hook)", file=sys.stderr, flush=True)
    await asyncio.Event().wait()  # until the process is killed
