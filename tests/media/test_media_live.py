"""``tams ingest --live`` against the real server, reading MPEG-TS as it is written:
a file another thread appends to, and standard input (a pipe). Segments are
registered while the input still grows, on the TAI timeline from "now", and the
Flow decodes to exactly the source's frames and samples."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import av
import pytest

from helpers.media import (
    FPS,
    decode,
    flow_segments,
    journal_flow_ids,
    kill_at_pause,
    kill_ingest_after,
    make_clip,
    start_tams,
    tams,
)
from tams_cli import _exits
from tams_cli._ingest import PAUSE_AFTER_ENV
from tams_cli._timing import NS, now_tai, parse_timestamp
from tams_server.app import RunningServer

SECONDS = 6
CHUNK = 64 * 1024
PACE_S = 0.2  # between chunks: about real time for this clip
LIVE = ("--live", "--segment-duration", "1", "--json")


@pytest.fixture(scope="module")
def live_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A longer MPEG-TS clip, so a writer can spread it over a few seconds."""
    return make_clip(tmp_path_factory.mktemp("live") / "live.ts", seconds=SECONDS, fmt="mpegts")


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _spooled(folder: Path, pattern: str = "*") -> list[Path]:
    """The spooled files of the standard input ingest journalled in ``folder``."""
    return list(folder.glob(f"stdin.*.tams-journal.json.spool/{pattern}"))


def _journal(folder: Path) -> dict[str, Any] | None:
    found = list(folder.glob("stdin.*.tams-journal.json"))
    return json.loads(found[0].read_text()) if found else None


async def _segment_counts(target: str, flow_ids: list[str]) -> list[int]:
    return [len(listed) for listed in await flow_segments(target, flow_ids)]


async def _export_matches(target: str, report: dict[str, object], source: Path, out: Path) -> None:
    flows = report["flows"]
    assert isinstance(flows, list)
    await tams(target, "export", flows[0]["id"], "-o", str(out))
    copy, original = decode(out), decode(source)
    assert copy.frames == original.frames
    assert len(copy.frames) == FPS * SECONDS
    assert copy.samples == original.samples


async def test_live_ingest_of_a_growing_file(
    running: RunningServer, live_clip: Path, tmp_path: Path
) -> None:
    target = running.grpc_target
    data = _read(live_clip)
    chunks = [data[at : at + CHUNK] for at in range(0, len(data), CHUNK)]
    growing = tmp_path / "growing.ts"
    growing.write_bytes(b"")
    before = now_tai()
    process = await start_tams(target, "ingest", str(growing), *LIVE, "--idle-timeout", "3")
    journal = growing.with_name("growing.ts.tams-journal.json")
    counts_before_last: list[int] = []
    with growing.open("ab") as writer:
        for number, chunk in enumerate(chunks):
            if number == len(chunks) - 1:  # the last chunk: Segments must be in by now
                members: list[str] = []
                for _ in range(10):  # a little grace on a busy machine, well under the timeout
                    if journal.exists():
                        flows = json.loads(journal.read_text())["flows"].values()
                        members = [flow_id for flow_id, _, _ in flows]
                        counts_before_last = await _segment_counts(target, members)
                        if all(counts_before_last):
                            break
                    await asyncio.sleep(0.2)
            writer.write(chunk)
            writer.flush()
            await asyncio.sleep(PACE_S)
    async with asyncio.timeout(60):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    report = json.loads(stdout)

    assert counts_before_last, "the ingest wrote no journal while the file grew"
    assert all(counts_before_last), "no Segment was registered before the file was complete"
    assert report["segments"] == 2 * SECONDS
    assert sum(counts_before_last) < report["segments"]
    start = parse_timestamp(report["start"])
    assert before <= start <= now_tai()  # the default start is "now"
    await _export_matches(target, report, live_clip, tmp_path / "growing.mkv")


async def test_live_ingest_from_standard_input(
    running: RunningServer, live_clip: Path, tmp_path: Path
) -> None:
    target = running.grpc_target
    process = await start_tams(target, "ingest", "-", *LIVE, "--journal", str(tmp_path),
                               "--container", "fmp4", stdin=True)  # fmt: skip
    assert process.stdin is not None
    data = _read(live_clip)
    for at in range(0, len(data), CHUNK):
        process.stdin.write(data[at : at + CHUNK])
        await process.stdin.drain()
    process.stdin.close()
    async with asyncio.timeout(60):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    report = json.loads(stdout)
    assert report["segments"] == 2 * SECONDS
    assert abs(parse_timestamp(report["start"]) - now_tai()) < 120 * NS
    await _export_matches(target, report, live_clip, tmp_path / "stdin.mp4")
    assert not _spooled(tmp_path), "registered Segments stay spooled"


async def test_standard_input_resumes_the_segments_it_had_cut(
    running: RunningServer, live_clip: Path, tmp_path: Path
) -> None:
    target = running.grpc_target
    args = ("ingest", "-", *LIVE, "--journal", str(tmp_path), "--concurrency", "1")
    process = await start_tams(target, *args, stdin=True, **{PAUSE_AFTER_ENV: "1"})
    assert process.stdin is not None
    process.stdin.write(_read(live_clip))
    await process.stdin.drain()
    process.stdin.close()
    deadline = time.monotonic() + 60
    while True:  # until all is cut: one Flow registered to its end, the other paused
        assert time.monotonic() < deadline, "the ingest did not cut its input"
        if (journal := _journal(tmp_path)) is not None:
            members = journal_flow_ids(journal)
            if SECONDS in await _segment_counts(target, members):
                break
        await asyncio.sleep(0.2)
    process.kill()
    await process.wait()
    first_start = journal["start_ns"]
    assert _spooled(tmp_path, "*.bin"), "the Segments cut but not registered are spooled"

    # Run again (an encoder restarted): the spooled Segments go in first, then the new
    # input continues the same Flows from now.
    again = await start_tams(target, *args, stdin=True)
    assert again.stdin is not None
    again.stdin.write(_read(live_clip))
    again.stdin.close()
    async with asyncio.timeout(60):
        stdout, stderr = await again.communicate()
    assert again.returncode == 0, stderr.decode()
    report = json.loads(stdout)
    assert report["resumed"] is True
    assert report["segments"] == 2 * 2 * SECONDS
    assert not _spooled(tmp_path)
    assert parse_timestamp(report["start"]) > first_start

    first_run = f"[{first_start // NS}:{first_start % NS}_{report['start']})"
    exported = tmp_path / "first.mkv"
    await tams(target, "export", report["flows"][0]["id"], "-o", str(exported),
               "--timerange", first_run)  # fmt: skip
    assert decode(exported).frames == decode(live_clip).frames


async def test_bad_usage_and_unreadable_input_change_nothing(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> None:
    target = running.grpc_target
    ts = str(clips["ts"])
    assert (await tams(target, "ingest", "-")).code == _exits.USAGE  # stdin needs --live
    assert (await tams(target, "ingest", "--live", ts, ts)).code == _exits.USAGE
    assert (await tams(target, "ingest", "--live", ts, "--idle-timeout", "0")).code == _exits.USAGE
    assert (await tams(target, "ingest", ts, "--container", "mkv")).code == _exits.USAGE

    label = f"unreadable-{uuid.uuid4().hex[:8]}"
    moov_at_end = tmp_path / "moov-at-end.mp4"  # needs seeking: not readable as it grows
    moov_at_end.write_bytes(_read(clips["mp4"]))
    run = await tams(target, "ingest", "--live", str(moov_at_end), "--idle-timeout", "0.5",
                     "--label", label)  # fmt: skip
    assert run.code == _exits.MEDIA
    assert "streamable" in run.stderr
    empty = await tams(target, "ingest", "--live", "-", "--journal", str(tmp_path),
                       "--label", label)  # fmt: skip
    assert empty.code == _exits.MEDIA
    for name in (label, f"{label} (video 0)", f"{label} (audio 1)"):
        assert (await tams(target, "flows", "ls", "--label", name, "--json")).json() == []


async def test_a_killed_live_ingest_of_a_file_resumes_from_its_start(
    running: RunningServer, live_clip: Path, tmp_path: Path
) -> None:
    target = running.grpc_target
    copy = tmp_path / "live.ts"
    copy.write_bytes(_read(live_clip))
    args = ("ingest", str(copy), *LIVE, "--idle-timeout", "0.5", "--concurrency", "1")
    await kill_ingest_after(target, *args, segments=3)
    journal = json.loads(copy.with_name("live.ts.tams-journal.json").read_text())
    assert journal["complete"] is False
    members = journal_flow_ids(journal)
    before = sum(await _segment_counts(target, members))
    assert 3 <= before < 2 * SECONDS

    resumed = (await tams(target, *args)).json()
    assert resumed["resumed"] is True
    assert parse_timestamp(resumed["start"]) == journal["start_ns"]  # the same timeline
    assert (resumed["segments"], resumed["registered_now"]) == (2 * SECONDS, 2 * SECONDS - before)
    await _export_matches(target, resumed, live_clip, tmp_path / "resumed.mkv")


def _video_only(source: Path, out: Path) -> Path:
    """``source``'s video alone, as MPEG-TS (remuxed)."""
    with av.open(str(source)) as media, av.open(str(out), "w", format="mpegts") as output:
        stream = output.add_stream_from_template(media.streams.video[0])
        for packet in media.demux(media.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                output.mux(packet)
    return out


async def _feed(target: str, data: bytes, *args: str, **env: str) -> asyncio.subprocess.Process:
    """``tams ARGS`` fed ``data`` on its standard input (a process that refuses its
    input may close the pipe before reading it all)."""
    process = await start_tams(target, *args, stdin=True, **env)
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.write(data)
        await process.stdin.drain()
        process.stdin.close()
    return process


async def test_standard_input_resumes_only_the_same_streams(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> None:
    target = running.grpc_target
    args = ("ingest", "-", *LIVE, "--journal", str(tmp_path))
    first = await _feed(target, _read(clips["ts"]), *args, **{PAUSE_AFTER_ENV: "1"})
    await kill_at_pause(first)
    journal = _journal(tmp_path)
    assert journal is not None
    members = journal_flow_ids(journal)
    counts = await _segment_counts(target, members)

    video = _video_only(clips["ts"], tmp_path / "video.ts")
    refused = await _feed(target, _read(video), *args)
    async with asyncio.timeout(60):
        _, stderr = await refused.communicate()
    assert refused.returncode == _exits.MEDIA
    assert "--fresh" in stderr.decode()
    assert await _segment_counts(target, members) == counts  # nothing more registered
