"""``tams ingest --container fmp4`` against the real server: each Flow gets one init
Object (``ftyp``+``moov``), every Segment is ``moof``+``mdat`` fragments using it, and
the Flow decodes back to exactly the source's frames and samples, through ``tams
export`` and as the plain concatenation init + every fragment (one continuous stream).

Audio from an MP4 source plays its AAC priming frame, as with MPEG-TS Segments
(fragmented MP4 Segments carry no edit lists); see test_media_roundtrip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.media import (
    AAC_FRAME,
    FPS,
    HEIGHT,
    SAMPLE_RATE,
    WIDTH,
    decode,
    flow_segments,
    ingest,
    journal_flow_ids,
    kill_ingest_after,
    segment_shape,
    tams,
)
from tams_client import AsyncTamsClient
from tams_server.app import RunningServer

SECONDS = 4


async def _ingest(target: str, clip: Path, journal: Path) -> dict[str, Any]:
    return await ingest(
        target, clip, "--container", "fmp4", "--segment-duration", "1", "--journal", str(journal)
    )


async def _get(http: httpx.AsyncClient, url: str) -> bytes:
    response = await http.get(url)
    response.raise_for_status()
    return response.content


@pytest.mark.parametrize(("kind", "output"), [("mp4", "mkv"), ("ts", "mp4")])
async def test_fmp4_flow_exports_to_the_source(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path, kind: str, output: str
) -> None:
    target = running.grpc_target
    report = await _ingest(target, clips[kind], tmp_path / "journal")
    flows = report["flows"]
    assert isinstance(flows, list)
    assert [f["format"].rsplit(":", 1)[1] for f in flows] == ["multi", "video", "audio"]
    assert report["segments"] == 2 * SECONDS

    exported = tmp_path / f"export.{output}"
    written = (await tams(target, "export", flows[0]["id"], "-o", str(exported),
                          "--json")).json()  # fmt: skip
    assert written["segments"] == 2 * SECONDS
    source, copy = decode(clips[kind]), decode(exported)
    assert copy.frames == source.frames
    assert len(copy.frames) == FPS * SECONDS
    assert copy.samples == source.samples + (AAC_FRAME if kind == "mp4" else 0)


async def test_each_flow_has_one_init_object_and_fragments_that_follow_it(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> None:
    report = await _ingest(running.grpc_target, clips["ts"], tmp_path / "journal")
    flows = report["flows"]
    assert isinstance(flows, list)
    multi_id, video_id, audio_id = (flow["id"] for flow in flows)
    async with AsyncTamsClient(running.grpc_target) as client, httpx.AsyncClient() as http:
        multi = await client.get_flow(multi_id)
        video = await client.get_flow(video_id)
        audio = await client.get_flow(audio_id)
        video_segments = [s async for s in client.list_segments(video_id)]
        audio_segments = [s async for s in client.list_segments(audio_id)]
        (init_id,) = {s.init_object.object_id for s in video_segments}
        (audio_init_id,) = {s.init_object.object_id for s in audio_segments}
        init = await _get(http, video_segments[0].init_object.get_urls[0].url)
        fragments = [await _get(http, s.get_urls[0].url) for s in video_segments]
    assert (multi.container, video.container, audio.container) == (
        "video/mp4", "video/mp4", "audio/mp4",
    )  # fmt: skip
    assert (video.video.init_segments, audio.audio.init_segments) == (True, True)
    # The essence parameters come from the probe, whatever the Segments' container.
    assert (video.codec, video.video.frame_width, video.video.frame_height) == (
        "video/h264", WIDTH, HEIGHT,
    )  # fmt: skip
    assert video.video.frame_rate.numerator == FPS
    assert video.video.avc_parameters.HasField("profile")
    assert (audio.codec, audio.audio.sample_rate, audio.audio.channels) == (
        "audio/aac", SAMPLE_RATE, 2,
    )  # fmt: skip
    assert multi.multi.init_segments
    assert len({init_id, audio_init_id} - {""}) == 2
    assert init_id not in {s.object_id for s in video_segments}
    assert (init[4:8], b"moov" in init, b"moof" in init) == (b"ftyp", True, False)
    assert all(fragment[4:8] == b"moof" for fragment in fragments)
    assert len({s.ts_offset for s in video_segments}) == 1  # one timeline for every Object

    whole = tmp_path / "whole.mp4"  # what an fMP4 player is given: init, then each fragment
    whole.write_bytes(init + b"".join(fragments))
    assert decode(whole).frames == decode(clips["ts"]).frames


async def test_a_killed_fmp4_ingest_resumes_to_the_same_flow(
    running: RunningServer, clip_copy: Path, clips: dict[str, Path], tmp_path: Path
) -> None:
    target = running.grpc_target
    args = ("ingest", str(clip_copy), "--container", "fmp4", "--segment-duration", "1",
            "--concurrency", "1", "--json")  # fmt: skip
    await kill_ingest_after(target, *args, segments=3)
    journal = json.loads(clip_copy.with_name("clip.mp4.tams-journal.json").read_text())
    assert journal["complete"] is False
    assert journal["container"] == "fmp4"
    members = journal_flow_ids(journal)
    inits_before = dict(journal["init_objects"])
    assert set(inits_before) <= set(members)

    resumed = (await tams(target, *args)).json()
    assert resumed["resumed"] is True
    assert (resumed["segments"], resumed["registered_now"]) == (2 * SECONDS, 2 * SECONDS - 3)
    journal = json.loads(clip_copy.with_name("clip.mp4.tams-journal.json").read_text())
    assert journal["init_objects"].items() >= inits_before.items()  # reused, not uploaded anew

    whole = await _ingest(target, clips["mp4"], tmp_path / "journal")
    flows = whole["flows"]
    assert isinstance(flows, list)
    resumed_segments = await flow_segments(target, members)
    whole_segments = await flow_segments(target, [f["id"] for f in flows[1:]])
    for resumed_id, got, want in zip(members, resumed_segments, whole_segments, strict=True):
        assert list(map(segment_shape, got)) == list(map(segment_shape, want))
        assert {s.init_object.object_id for s in got} == {journal["init_objects"][resumed_id]}

    exported = tmp_path / "resumed.mkv"
    await tams(target, "export", resumed["flows"][0]["id"], "-o", str(exported))
    assert decode(exported).frames == decode(clips["mp4"]).frames
