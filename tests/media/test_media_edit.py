"""Exports cut to the frame, and ``tams clip`` / ``tams concat`` (new Flows by
reference), checked by decoding what comes out against the source clip.

The clip: 4 s at 25 fps, a key frame each second, ingested in 1 s Segments, so
video frame ``k`` is at ``S + k * 40 ms`` on the Flow timeline (``S``: the first
Segment's start) and Segment ``n`` holds frames ``25n`` to ``25n + 24``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import av
import pytest

from helpers.media import FPS, ingest, tams
from media._frames import Frame, closest, video_frames
from tams_cli import _exits
from tams_cli._timing import NS, TimeRange, parse_timerange
from tams_client import AsyncTamsClient
from tams_server.app import RunningServer

FRAME_NS = NS // FPS


async def _ingest(target: str, clip: Path, journal: Path) -> dict[str, Any]:
    return await ingest(target, clip, "--segment-duration", "1", "--journal", str(journal))


async def _first_start(target: str, flow_id: str) -> int:
    async with AsyncTamsClient(target) as client:
        async for segment in client.list_segments(flow_id):
            start = parse_timerange(segment.timerange).start
            assert start is not None
            return start
    raise AssertionError("the flow has no segments")


def _frames_range(start_ns: int, first: int, end: int) -> str:
    """The Flow timerange of frames ``first`` to ``end - 1``."""
    return str(TimeRange(start_ns + first * FRAME_NS, start_ns + end * FRAME_NS))


def _assert_frames(got: list[Frame], source: list[Frame], wanted: list[int]) -> None:
    """``got`` are the source frames ``wanted``, in order, one each 1/FPS s (from the
    file's start: MPEG-TS starts its video after the B-frames' decode delay)."""
    assert len(got) == len(wanted)
    assert [(frame.time - got[0].time) * FPS for frame in got] == list(range(len(wanted)))
    assert closest(got[0], source, wanted[0]) == wanted[0]
    assert closest(got[-1], source, wanted[-1]) == wanted[-1]


def _stored(running: RunningServer) -> tuple[int, int]:
    """How many files, and bytes, the store's data folder holds."""
    files = [p for p in Path(running.config.data_dir).rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


@pytest.fixture
async def ingested(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> dict[str, Any]:
    """The MPEG-TS clip ingested: its report, plus where its video starts."""
    report = await _ingest(running.grpc_target, clips["ts"], tmp_path / "journal")
    start = await _first_start(running.grpc_target, report["flows"][1]["id"])
    return {**report, "start": start}


@pytest.mark.parametrize("output", ["mp4", "ts", "mkv"])
async def test_an_export_cut_inside_segments_has_exactly_the_frames_of_its_range(
    running: RunningServer,
    clips: dict[str, Path],
    ingested: dict[str, Any],
    tmp_path: Path,
    output: str,
) -> None:
    target, start = running.grpc_target, ingested["start"]
    source = video_frames(clips["ts"])
    video_id = ingested["flows"][1]["id"]
    exported = tmp_path / f"cut.{output}"
    written = (
        await tams(target, "export", video_id, "-o", str(exported),
                   "--timerange", _frames_range(start, 30, 90), "--json")
    ).json()  # fmt: skip
    # Frames 30-49 (Segment 1 from the cut on) and 75-89 (Segment 3 up to the cut)
    # are encoded again; Segment 2, frames 50-74, is remuxed as it is.
    assert written["reencoded_frames"] == 20 + 15
    assert written["segments"] == 3
    got = video_frames(exported)
    _assert_frames(got, source, list(range(30, 90)))
    assert [frame.luma for frame in got[20:45]] == [frame.luma for frame in source[50:75]]
    for index, frame in enumerate(got):
        assert closest(frame, source, 30 + index) == 30 + index


async def test_a_cut_on_a_key_frame_inside_a_segment_encodes_nothing_there(
    running: RunningServer, clips: dict[str, Path], tmp_path: Path
) -> None:
    """2 s Segments hold two groups of pictures (a key frame each second): a range from
    the second group's key frame keeps that group as it is; only the group the end
    cuts is encoded again."""
    target = running.grpc_target
    report = await ingest(target, clips["ts"], "--journal", str(tmp_path))
    video_id = report["flows"][1]["id"]
    start = await _first_start(target, video_id)
    exported = tmp_path / "key.mp4"
    written = (
        await tams(target, "export", video_id, "-o", str(exported),
                   "--timerange", _frames_range(start, 25, 90), "--json")
    ).json()  # fmt: skip
    assert (written["segments"], written["reencoded_frames"]) == (2, 15)
    source, got = video_frames(clips["ts"]), video_frames(exported)
    _assert_frames(got, source, list(range(25, 90)))
    assert [frame.luma for frame in got[:50]] == [frame.luma for frame in source[25:75]]


async def test_a_cut_inside_one_segment_of_a_multi_essence_flow(
    running: RunningServer, clips: dict[str, Path], ingested: dict[str, Any], tmp_path: Path
) -> None:
    exported = tmp_path / "inside.mp4"
    written = (
        await tams(running.grpc_target, "export", ingested["flows"][0]["id"], "-o",
                   str(exported), "--timerange", _frames_range(ingested["start"], 60, 65),
                   "--json")
    ).json()  # fmt: skip
    assert written["reencoded_frames"] == 5
    _assert_frames(video_frames(exported), video_frames(clips["ts"]), list(range(60, 65)))
    with av.open(str(exported)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        audio = container.streams.audio[0]
        seconds = sum(p.duration or 0 for p in container.demux(audio)) * audio.time_base
        assert abs(seconds - 0.2) < 0.05  # five frames' worth, to the AAC frame


async def test_a_clip_references_the_original_objects_and_exports_to_its_frames(
    running: RunningServer, clips: dict[str, Path], ingested: dict[str, Any], tmp_path: Path
) -> None:
    target, start = running.grpc_target, ingested["start"]
    multi_id, video_id, _ = (flow["id"] for flow in ingested["flows"])
    before = _stored(running)
    made = (
        await tams(target, "clip", multi_id, "--timerange", _frames_range(start, 30, 90),
                   "--label", "a clip", "--json")
    ).json()  # fmt: skip
    assert _stored(running) == before  # nothing uploaded
    async with AsyncTamsClient(target) as client:
        multi = await client.get_flow(made["id"])
        members = [await client.get_flow(item.id) for item in multi.flow_collection]
        original = await client.get_flow(video_id)
        clipped = [s async for s in client.list_segments(members[0].id)]
        originals = [s async for s in client.list_segments(video_id)]
    urls = {s.object_id: [u.url for u in s.get_urls] for s in originals}
    assert multi.format.endswith(":multi")
    assert multi.label == "a clip"
    assert [item.role for item in multi.flow_collection] == ["video_0", "audio_1"]
    assert [m.format.rsplit(":", 1)[1] for m in members] == ["video", "audio"]
    video = members[0]
    assert (video.codec, video.container, video.video) == (
        original.codec, original.container, original.video,
    )  # fmt: skip
    assert video.source_id != original.source_id
    # Three Segments on the original Objects, the outer two narrowed; the clip keeps
    # the original times.
    assert [s.timerange for s in clipped] == [
        _frames_range(start, 30, 50), _frames_range(start, 50, 75), _frames_range(start, 75, 90),
    ]  # fmt: skip
    for segment in clipped:
        assert [u.url for u in segment.get_urls] == urls[segment.object_id]

    exported = tmp_path / "clip.mkv"
    written = (await tams(target, "export", made["id"], "-o", str(exported), "--json")).json()
    assert written["reencoded_frames"] == 20 + 15
    _assert_frames(video_frames(exported), video_frames(clips["ts"]), list(range(30, 90)))


async def test_a_clip_on_segment_boundaries_moved_to_zero_is_remuxed_only(
    running: RunningServer, clips: dict[str, Path], ingested: dict[str, Any], tmp_path: Path
) -> None:
    target, start = running.grpc_target, ingested["start"]
    video_id = ingested["flows"][1]["id"]
    new_id = str(uuid.uuid4())
    made = (
        await tams(target, "clip", video_id, "--timerange", _frames_range(start, 25, 75),
                   "--to", new_id, "--start", "0:0", "--json")
    ).json()  # fmt: skip
    assert made["id"] == new_id
    assert made["timerange"] == "[0:0_2:0)"
    exported = tmp_path / "boundaries.mp4"
    written = (await tams(target, "export", new_id, "-o", str(exported), "--json")).json()
    assert written["reencoded_frames"] == 0
    source = video_frames(clips["ts"])
    assert [f.luma for f in video_frames(exported)] == [f.luma for f in source[25:75]]


async def test_concat_joins_ranges_back_to_back(
    running: RunningServer, clips: dict[str, Path], ingested: dict[str, Any], tmp_path: Path
) -> None:
    target, start = running.grpc_target, ingested["start"]
    video_id = ingested["flows"][1]["id"]
    other = await _ingest(target, clips["ts"], tmp_path / "other")  # a second Flow
    other_id = other["flows"][1]["id"]
    other_start = await _first_start(target, other_id)
    before = _stored(running)
    new_id = str(uuid.uuid4())
    made = (
        await tams(target, "concat", f"{video_id}:{_frames_range(start, 60, 80)}",
                   f"{other_id}:{_frames_range(other_start, 10, 30)}", "--to", new_id,
                   "--start", "100:0", "--json")
    ).json()  # fmt: skip
    assert _stored(running) == before
    assert made == {
        "id": new_id, "members": [], "segments": 4, "timerange": "[100:0_101:600000000)",
    }  # fmt: skip
    exported = tmp_path / "joined.ts"
    await tams(target, "export", new_id, "-o", str(exported))
    got, source = video_frames(exported), video_frames(clips["ts"])
    wanted = [*range(60, 80), *range(10, 30)]
    _assert_frames(got, source, wanted)
    assert closest(got[19], source, 79) == 79
    assert closest(got[20], source, 10) == 10


async def test_bad_edits_fail_clearly_and_change_nothing(
    running: RunningServer, ingested: dict[str, Any]
) -> None:
    target, start = running.grpc_target, ingested["start"]
    multi_id, video_id, audio_id = (flow["id"] for flow in ingested["flows"])
    inside = _frames_range(start, 10, 20)
    async with AsyncTamsClient(target) as client:
        flows_before = len([f async for f in client.list_flows()])

    unknown = await tams(target, "clip", str(uuid.uuid4()), "--timerange", inside)
    assert unknown.code == _exits.NOT_FOUND
    empty = await tams(target, "clip", video_id, "--timerange", "[5:0_5:0)")
    assert (empty.code, "is empty" in empty.stderr) == (_exits.USAGE, True)
    malformed = await tams(target, "clip", video_id, "--timerange", "1.5")
    assert malformed.code == _exits.USAGE
    outside = await tams(target, "clip", video_id, "--timerange", "[999999:0_1000000:0)")
    assert (outside.code, "no segments" in outside.stderr) == (_exits.NOT_FOUND, True)
    taken = await tams(target, "clip", multi_id, "--timerange", inside, "--to", audio_id)
    assert (taken.code, "exists already" in taken.stderr) == (_exits.REFUSED, True)
    mixed = await tams(target, "concat", video_id, audio_id, "--to", str(uuid.uuid4()))
    assert (mixed.code, "cannot follow" in mixed.stderr) == (_exits.REFUSED, True)
    no_flow = await tams(target, "concat", ":[0:0_1:0)", "--to", str(uuid.uuid4()))
    assert no_flow.code == _exits.USAGE
    bad_start = await tams(target, "clip", video_id, "--timerange", inside, "--start", "soon")
    assert bad_start.code == _exits.USAGE
    empty_export = await tams(target, "export", video_id, "-o", "x.mp4", "--timerange", "[3:0_2:0)")
    assert empty_export.code == _exits.USAGE

    async with AsyncTamsClient(target) as client:
        assert len([f async for f in client.list_flows()]) == flows_before
