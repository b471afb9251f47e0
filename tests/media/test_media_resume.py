"""An ingest killed half-way (a real subprocess, SIGKILLed while it waits after a
known number of Segments) continues from its journal when run again, and ends with
the same Flow as an uninterrupted ingest: the same Segments, nothing lost or twice."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.media import (
    FPS,
    decode,
    ingest,
    journal_flow_ids,
    kill_ingest_after,
    segment_shapes,
    tams,
)
from tams_server.app import RunningServer

SEGMENTS = 8  # 4 s at 1 s, video and audio
KILLED_AFTER = 3


async def test_a_killed_ingest_resumes_to_the_same_flow(
    running: RunningServer, clip_copy: Path, clips: dict[str, Path], tmp_path: Path
) -> None:
    target = running.grpc_target
    args = ("ingest", str(clip_copy), "--segment-duration", "1", "--concurrency", "1", "--json")
    await kill_ingest_after(target, *args, segments=KILLED_AFTER)

    journal = json.loads(clip_copy.with_name("clip.mp4.tams-journal.json").read_text())
    assert journal["complete"] is False
    members = journal_flow_ids(journal)
    assert sum(map(len, await segment_shapes(target, members))) == KILLED_AFTER

    resumed = (await tams(target, *args)).json()
    assert resumed["resumed"] is True
    assert resumed["source_id"] == journal["source_id"]
    assert (resumed["segments"], resumed["registered_now"]) == (SEGMENTS, SEGMENTS - KILLED_AFTER)
    again = (await tams(target, *args)).json()  # done: nothing more to do
    assert (again["segments"], again["registered_now"]) == (SEGMENTS, 0)

    whole = await ingest(
        target, clips["mp4"], "--segment-duration", "1", "--journal", str(tmp_path / "journal")
    )
    ids = [flow["id"] for flow in whole["flows"][1:]]
    assert await segment_shapes(target, members) == await segment_shapes(target, ids)

    exported = tmp_path / "resumed.mkv"
    await tams(target, "export", resumed["flows"][0]["id"], "-o", str(exported))
    assert decode(exported).frames == decode(clips["mp4"]).frames
    assert len(decode(exported).frames) == 4 * FPS
