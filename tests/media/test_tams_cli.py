"""The ``tams`` basics as a script sees them: listings and deletes with ``--json``,
exit codes that say what went wrong (see ``tams_cli._exits``), and ``watch``
printing Segments as they are added."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from helpers.media import ingest, tams
from tams_cli import _exits
from tams_client import AsyncTamsClient
from tams_server.app import RunningServer


async def _ingest(target: str, clip: Path, journal: Path, label: str) -> dict[str, Any]:
    return await ingest(target, clip, "--label", label, "--journal", str(journal))


async def test_listings_gets_and_deletes(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> None:
    target = running.grpc_target
    label = f"cli-{uuid.uuid4().hex[:8]}"
    report = await _ingest(target, clips["ts"], tmp_path, label)
    multi_id = report["flows"][0]["id"]

    listed = (await tams(target, "flows", "ls", "--label", label, "--json")).json()
    assert [flow["id"] for flow in listed] == [multi_id]
    shown = (await tams(target, "flows", "get", multi_id, "--json")).json()
    assert shown["source_id"] == report["source_id"]
    human = await tams(target, "sources", "get", str(report["source_id"]))
    assert human.code == 0
    assert str(report["source_id"]) in human.stdout

    ids = [flow["id"] for flow in report["flows"]]
    deleted = (await tams(target, "flows", "rm", *ids, "--json")).json()
    assert deleted["deleted"] == ids
    gone = await tams(target, "flows", "get", multi_id)
    assert gone.code == _exits.NOT_FOUND
    assert "hint:" in gone.stderr


async def test_exit_codes_say_what_went_wrong(running: RunningServer, tmp_path: Path) -> None:
    target = running.grpc_target
    not_media = tmp_path / "notes.txt"
    not_media.write_text("not a video")
    assert (await tams(target, "ingest", str(not_media))).code == _exits.MEDIA
    assert (await tams(target, "export", str(uuid.uuid4()), "-o", "x.avi")).code == _exits.USAGE
    missing = await tams(target, "flows", "get", str(uuid.uuid4()))
    assert missing.code == _exits.NOT_FOUND
    unreachable = await tams("127.0.0.1:1", "flows", "ls")
    assert unreachable.code == _exits.UNREACHABLE
    assert "TAMS_TARGET" in unreachable.stderr


async def test_watch_prints_segments_as_they_are_added(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> None:
    target = running.grpc_target
    async with AsyncTamsClient(target) as client:
        async for reply in client.watch_events().pages():  # the first reply: where "now" is
            cursor = reply.resume_cursor
            break
    report = await _ingest(target, clips["mp4"], tmp_path, "watched")
    video_id, audio_id = (flow["id"] for flow in report["flows"][1:])
    run = await tams(target, "watch", video_id, audio_id, "--after", cursor, "--count", "4",
                     "--json")  # fmt: skip
    lines = run.lines()  # one per Segment: 4 s in 2 s Segments, video and audio
    assert {line["event"] for line in lines} == {"flows/segments_added"}
    assert {line["flow_id"] for line in lines} == {video_id, audio_id}
    assert all(line["segment"]["timerange"] for line in lines)
    assert "watching" in run.stderr
