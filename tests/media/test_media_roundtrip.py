"""``tams ingest`` then ``tams export`` against the real server: the Flows describe
the file, and the exported file decodes to exactly the source's video frames (pixel
for pixel) and audio samples.

Audio tolerance: an MP4 from an AAC encoder carries an edit list that hides the
encoder's priming frame (1024 samples); MPEG-TS has no edit lists, so its Segments,
and a file made from them, play that frame too. From an MPEG-TS source the samples
match exactly."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from helpers.media import AAC_FRAME, FPS, HEIGHT, SAMPLE_RATE, WIDTH, decode, ingest, tams
from tams_client import AsyncTamsClient
from tams_server.app import RunningServer

SECONDS = 4


@pytest.mark.parametrize(("kind", "output"), [("mp4", "mp4"), ("ts", "mkv"), ("mp4", "ts")])
async def test_export_decodes_to_the_source(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path, kind: str, output: str
) -> None:
    target = running.grpc_target
    journal = str(tmp_path / "journal")
    report = await ingest(target, clips[kind], "--segment-duration", "1", "--journal", journal)
    assert [flow["format"].rsplit(":", 1)[1] for flow in report["flows"]] == [
        "multi", "video", "audio",
    ]  # fmt: skip
    assert report["segments"] == 2 * SECONDS  # one per second, video and audio
    assert report["resumed"] is False

    exported = tmp_path / f"export.{output}"
    written = (await tams(target, "export", report["flows"][0]["id"], "-o", str(exported),
                          "--json")).json()  # fmt: skip
    assert written["segments"] == 2 * SECONDS

    source, copy = decode(clips[kind]), decode(exported)
    assert copy.frames == source.frames
    assert len(copy.frames) == FPS * SECONDS
    priming = AAC_FRAME if kind == "mp4" else 0
    assert copy.samples == source.samples + priming


async def test_flows_carry_the_probed_essence(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> None:
    report = await ingest(
        running.grpc_target, clips["ts"], "--label", "probe", "--journal", str(tmp_path),
        "--start", "100:0",
    )  # fmt: skip
    multi_id, video_id, audio_id = (flow["id"] for flow in report["flows"])
    async with AsyncTamsClient(running.grpc_target) as client:
        multi = await client.get_flow(multi_id)
        video = await client.get_flow(video_id, include_timerange=True)
        audio = await client.get_flow(audio_id)
        segments = [s async for s in client.list_segments(video_id)]
    assert multi.source_id == report["source_id"]
    assert [item.id for item in multi.flow_collection] == [video_id, audio_id]
    assert video.codec == "video/h264"
    assert video.container == "video/mp2t"
    assert (video.video.frame_width, video.video.frame_height) == (WIDTH, HEIGHT)
    assert video.video.frame_rate.numerator == FPS
    assert video.video.avc_parameters.HasField("profile")
    assert video.label == "probe (video 0)"
    assert (audio.codec, audio.audio.sample_rate, audio.audio.channels) == (
        "audio/aac", SAMPLE_RATE, 2,
    )  # fmt: skip
    assert audio.audio.codec_parameters.coded_frame_size == AAC_FRAME
    # 2 s Segments (the default), each starting on a key frame, from 100:0 on.
    assert len(segments) == SECONDS // 2
    assert all(s.key_frame_count >= 1 for s in segments)
    assert video.timerange.startswith("[100:")
    for before, after in itertools.pairwise(segments):
        assert before.timerange.split("_")[1].rstrip(")") == after.timerange.split("_")[0][1:]


async def test_export_of_a_range_on_segment_boundaries(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> None:
    target = running.grpc_target
    report = await ingest(
        target, clips["mp4"], "--segment-duration", "1", "--journal", str(tmp_path)
    )
    video_id = report["flows"][1]["id"]
    ranges = [s["timerange"] for s in (await tams(target, "segments", "ls", video_id,
                                                   "--json")).lines()]  # fmt: skip
    wanted = f"{ranges[1].split('_')[0]}_{ranges[2].split('_')[1]}"  # seconds 1 to 3
    exported = tmp_path / "middle.mp4"
    written = (await tams(target, "export", video_id, "-o", str(exported),
                          "--timerange", wanted, "--json")).json()  # fmt: skip
    assert written["segments"] == 2
    assert decode(exported).frames == decode(clips["mp4"]).frames[FPS : 3 * FPS]
