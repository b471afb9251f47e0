"""Media through ``tams``: ingest of an H.264 + AAC file (split at key frames into
Segments, uploaded and registered) against a plain upload of the same bytes as one
Object, and export of the ingested Flow back into one file (remuxed), both whole and
cut inside Segments (the cut frames encoded again).

Each ``tams`` run is a real subprocess against the server in this process, timed
wall-clock from start to exit (Python's start-up included: about half a second). The
source is made once with PyAV and kept in the temp folder: 60 s of 1080p30 (720p for
--quick, a few seconds at 320x240 for --tiny)."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import report, server, video_flow_message
from tams.v1 import segments_pb2
from tams_client import AsyncTamsClient

MB = 1_000_000
SEGMENT_SECONDS = 2


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    width, height, fps, seconds = (
        (320, 240, 25, 4) if tiny else (1280, 720, 30, 10) if quick else (1920, 1080, 30, 60)
    )
    source = await _source(width, height, fps, seconds)
    size = source.stat().st_size
    shape = {"resolution": f"{width}x{height}", "fps": fps, "seconds": seconds}
    report("media_source_bytes", size, "bytes", **shape)
    async with server(database_url) as running:
        target = running.grpc_target
        with tempfile.TemporaryDirectory(prefix="tams-bench-media-") as tmp:
            folder = Path(tmp)
            plain_s = await _plain_upload(target, source, seconds)
            started = time.perf_counter()
            ingested = await _tams(
                target, "ingest", str(source), "--journal", str(folder),
                "--segment-duration", str(SEGMENT_SECONDS), "--json",
            )  # fmt: skip
            ingest_s = time.perf_counter() - started
            segments = int(ingested["segments"])
            report("media_ingest_wall_s", ingest_s, "s", segments=segments, **shape)
            report("media_ingest_mb_per_s", size / MB / ingest_s, "MB/s", **shape)
            report("media_ingest_segments_per_s", segments / ingest_s, "segments/s", **shape)
            report("media_plain_upload_mb_per_s", size / MB / plain_s, "MB/s", **shape)
            report(
                "media_ingest_over_plain_upload", plain_s / ingest_s, "ratio", **shape,
                note="ingest throughput / plain upload throughput of the same bytes",
            )  # fmt: skip
            multi_id = ingested["flows"][0]["id"]
            await _export(target, multi_id, folder / "whole.mp4", None, "media_export", shape)
            start_s = await _start_seconds(target, ingested["flows"][1]["id"])
            cut = _cut_range(start_s, seconds)
            await _export(target, multi_id, folder / "cut.mp4", cut, "media_export_cut", shape)


async def _source(width: int, height: int, fps: int, seconds: int) -> Path:
    """The source file, made on first use and then kept."""
    folder = Path(tempfile.gettempdir()) / "tams-bench-media"
    folder.mkdir(exist_ok=True)
    path = folder / f"source-{width}x{height}-{fps}p-{seconds}s.mp4"
    if not path.exists():
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench._media_source", str(path),
            str(width), str(height), str(fps), str(seconds),
        )  # fmt: skip
        if await process.wait() != 0:
            raise RuntimeError("making the media benchmark's source failed")
        print(f"bench media: made {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


async def _plain_upload(target: str, source: Path, seconds: int) -> float:
    """Seconds to upload ``source`` as one Object and register it as one Segment."""
    flow = video_flow_message()
    async with AsyncTamsClient(target) as client:
        await client.create_flow(flow)
        started = time.perf_counter()
        object_id = await client.upload_object(flow.id, source, content_type=flow.container)
        reply = await client.register_segments(
            flow.id, [segments_pb2.SegmentPost(object_id=object_id, timerange=f"[0:0_{seconds}:0)")]
        )
        elapsed = time.perf_counter() - started
    assert reply.registered_count == 1, reply.failed_segments
    return elapsed


async def _export(
    target: str, flow_id: str, output: Path, timerange: str | None, metric: str,
    shape: dict[str, Any],
) -> None:  # fmt: skip
    args = ["export", flow_id, "-o", str(output), "--json"]
    if timerange is not None:
        args += ["--timerange", timerange]
    started = time.perf_counter()
    written = await _tams(target, *args)
    elapsed = time.perf_counter() - started
    size = int(written["bytes"])
    extra = {**shape, "bytes": size, "reencoded_frames": written["reencoded_frames"]}
    report(f"{metric}_wall_s", elapsed, "s", **extra)
    report(f"{metric}_mb_per_s", size / MB / elapsed, "MB/s", **extra)


async def _start_seconds(target: str, video_id: str) -> float:
    async with AsyncTamsClient(target) as client:
        async for segment in client.list_segments(video_id):
            seconds, nanos = segment.timerange.strip("[(").split("_")[0].split(":")
            return int(seconds) + int(nanos) / 1e9
    raise RuntimeError("the ingested video Flow has no Segments")


def _cut_range(start_s: float, seconds: int) -> str:
    """From 1.5 s in to 1.5 s before the end, on frame times: half a group of pictures
    (a key frame each second) encoded again at each end."""
    first = start_s + 1.5
    last = start_s + seconds - 1.5
    return f"[{_timestamp(first)}_{_timestamp(last)})"


def _timestamp(seconds: float) -> str:
    nanos = round(seconds * 1e9)
    return f"{nanos // 10**9}:{nanos % 10**9}"


async def _tams(target: str, *args: str) -> Any:
    """Run ``tams ARGS`` (``--json``) against ``target``; its JSON answer."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tams_cli", "--target", target, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"tams {args[0]} failed ({process.returncode}): {stderr.decode()}")
    return json.loads(stdout)
