"""HLS from the HTTP side against the real server: a clip ingested with ``tams ingest``
plays back through its playlists (FFmpeg's HLS demuxer, through PyAV, fetches the
playlists and the presigned Segment URLs over HTTP and decodes every frame); the
playlists' structure on Flows of external Segments placed to show VOD and live,
windows, discontinuities and init Objects; and the refusals."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import av
import grpc
import httpx
import pytest

from helpers.hls import (
    SECONDS,
    Span,
    add_segments,
    external_flow,
    fragment,
    tag_values,
    uris,
)
from helpers.media import FPS, decode, frame_digest
from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc
from tams_server.app import RunningServer, serve_gateway
from tams_server.gateway.hls.timing import now_tai_ns
from tams_server.tai import NS_PER_S

S = NS_PER_S
MEDIA_TYPE = "application/vnd.apple.mpegurl"
README = Path(__file__).resolve().parents[2] / "README.md"
# FFmpeg 7.1+ refuses HLS Segment URLs without a media file extension unless told not
# to; presigned Object URLs have none.
HLS_OPTIONS = {"extension_picky": "0"}


def decode_url(url: str) -> tuple[list[str], int]:
    """Each video frame's digest (visible pixels, as ``helpers.media.decode``) and the
    audio samples of what ``url`` plays."""
    frames: list[str] = []
    samples = 0
    with av.open(url, options=HLS_OPTIONS) as container:
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                frames.append(frame_digest(frame))
            elif isinstance(frame, av.AudioFrame):
                samples += frame.samples
    return frames, samples


async def test_the_master_playlist_offers_the_video_with_its_audio(
    http: httpx.AsyncClient, ingested: dict[str, Any]
) -> None:
    _, video, audio = (flow["id"] for flow in ingested["flows"])
    answer = await http.get(f"/hls/sources/{ingested['source_id']}/master.m3u8")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == MEDIA_TYPE
    (media,) = tag_values(answer.text, "#EXT-X-MEDIA")
    assert 'TYPE=AUDIO,GROUP-ID="audio"' in media
    assert f'URI="/hls/flows/{audio}/index.m3u8"' in media
    (variant,) = tag_values(answer.text, "#EXT-X-STREAM-INF")
    assert re.search(r'CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"', variant), variant
    assert "RESOLUTION=320x240" in variant
    assert "FRAME-RATE=25.000" in variant
    assert 'AUDIO="audio"' in variant
    assert int(re.search(r"BANDWIDTH=(\d+)", variant)[1]) > 0  # type: ignore[index]
    assert uris(answer.text) == [f"/hls/flows/{video}/index.m3u8"]


async def test_the_video_playlist_plays_every_frame_of_the_source(
    running: RunningServer, http: httpx.AsyncClient, ingested: dict[str, Any], clip: Path
) -> None:
    video = ingested["flows"][1]["id"]
    answer = await http.get(f"/hls/flows/{video}/index.m3u8")
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert tag_values(text, "#EXT-X-PLAYLIST-TYPE") == ["VOD"]
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    assert len(uris(text)) == SECONDS
    assert all("signature=" in uri for uri in uris(text))  # presigned
    assert tag_values(text, "#EXT-X-TARGETDURATION") == ["1"]
    assert "#EXT-X-DISCONTINUITY" not in text
    frames, _ = await asyncio.to_thread(
        decode_url, f"{running.http_url}/hls/flows/{video}/index.m3u8"
    )
    source = await asyncio.to_thread(decode, clip)
    assert len(frames) == FPS * SECONDS
    assert frames == source.frames


async def test_the_master_playlist_plays_video_and_audio(
    running: RunningServer, ingested: dict[str, Any], clip: Path
) -> None:
    url = f"{running.http_url}/hls/sources/{ingested['source_id']}/master.m3u8"
    frames, samples = await asyncio.to_thread(decode_url, url)
    source = await asyncio.to_thread(decode, clip)
    assert frames == source.frames
    assert samples == source.samples


async def test_a_live_window_is_the_newest_segments_without_an_end(
    http: httpx.AsyncClient, ingested: dict[str, Any]
) -> None:
    video = ingested["flows"][1]["id"]
    vod = (await http.get(f"/hls/flows/{video}/index.m3u8")).text
    answer = await http.get(f"/hls/flows/{video}/index.m3u8", params={"live": "true", "window": 2})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-cache"
    live = answer.text
    assert "#EXT-X-ENDLIST" not in live
    assert "#EXT-X-PLAYLIST-TYPE" not in live
    assert [u.split("?")[0] for u in uris(live)] == [u.split("?")[0] for u in uris(vod)[-2:]]
    assert tag_values(live, "#EXT-X-MEDIA-SEQUENCE") == ["2"]  # 1 s Segments from 0 s


STEP = 1_920_000_000  # 48 frames at 25 Hz
NOMINAL = common_pb2.Rational(numerator=48, denominator=25)


def regular(count: int, first_start: int) -> list[Span]:
    """``count`` back-to-back 1.92 s spans from ``first_start``."""
    return [Span(first_start + i * STEP, first_start + (i + 1) * STEP) for i in range(count)]


async def test_a_flow_ending_now_is_live_by_default_and_slides(
    channel: grpc.aio.Channel, http: httpx.AsyncClient
) -> None:
    # Segments whose last ends about now on the TAI clock: real-time capture.
    last_end = now_tai_ns() // STEP * STEP
    spans = regular(15, last_end - 15 * STEP)
    flow_id = await external_flow(channel, spans, segment_duration=NOMINAL)
    text = (await http.get(f"/hls/flows/{flow_id}/index.m3u8")).text
    assert "#EXT-X-ENDLIST" not in text
    assert len(uris(text)) == 10  # the default window: the newest 10
    assert uris(text)[-1].endswith("-14")
    assert tag_values(text, "#EXT-X-MEDIA-SEQUENCE") == [str(spans[5].start // STEP)]
    assert tag_values(text, "#EXT-X-TARGETDURATION") == ["2"]
    assert tag_values(text, "#EXTINF") == ["1.920000,"] * 10
    # One more Segment: the window moves on by one, and so does the sequence number.
    await add_segments(channel, flow_id, [Span(last_end, last_end + STEP)])
    moved = (await http.get(f"/hls/flows/{flow_id}/index.m3u8")).text
    assert tag_values(moved, "#EXT-X-MEDIA-SEQUENCE") == [str(spans[6].start // STEP)]
    assert uris(moved)[:-1] == uris(text)[1:]
    # Asked for, the same Flow is VOD: all its Segments, and an end.
    vod = (await http.get(f"/hls/flows/{flow_id}/index.m3u8", params={"live": "false"})).text
    assert len(uris(vod)) == 16
    assert vod.rstrip().endswith("#EXT-X-ENDLIST")


@pytest.mark.parametrize(
    ("fields", "recent", "live"),
    [
        ({"status": "closed_complete"}, True, False),  # ends now, but closed
        ({"read_only": True}, True, False),
        ({"status": "ingesting"}, False, True),  # long ago, but still being written
        ({}, False, False),  # long ago: done
    ],
)
async def test_status_decides_between_live_and_vod(
    channel: grpc.aio.Channel,
    http: httpx.AsyncClient,
    fields: dict[str, Any],
    recent: bool,
    live: bool,
) -> None:
    start = now_tai_ns() - 3 * STEP if recent else 0
    read_only = fields.get("read_only", False)
    flow_fields = {name: value for name, value in fields.items() if name != "read_only"}
    flow_id = await external_flow(channel, regular(3, start), **flow_fields)
    if read_only:  # a read-only Flow takes no Segments: set it after
        assert (await http.put(f"/flows/{flow_id}/read_only", json=True)).status_code == 204
    text = (await http.get(f"/hls/flows/{flow_id}/index.m3u8")).text
    assert ("#EXT-X-ENDLIST" not in text) is live
    assert len(uris(text)) == 3


async def test_gaps_are_discontinuities_and_a_timerange_is_a_window(
    channel: grpc.aio.Channel, http: httpx.AsyncClient
) -> None:
    spans = [*regular(3, 0), *regular(2, 100 * S)]
    flow_id = await external_flow(channel, spans)
    text = (await http.get(f"/hls/flows/{flow_id}/index.m3u8")).text
    lines = text.splitlines()
    (gap,) = [i for i, line in enumerate(lines) if line == "#EXT-X-DISCONTINUITY"]
    assert lines[gap + 1].startswith("#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:01:30")  # 100 s TAI
    assert uris("\n".join(lines[gap:]))[0].endswith("-3")
    windowed = await http.get(f"/hls/flows/{flow_id}/index.m3u8", params={"timerange": "[2:0_4:0)"})
    assert [u.rsplit("-", 1)[1] for u in uris(windowed.text)] == ["1", "2"]
    assert "#EXT-X-DISCONTINUITY" not in windowed.text


async def test_fmp4_with_an_init_object_plays_through_its_map(
    running: RunningServer, http: httpx.AsyncClient, clip_mp4: Path, tmp_path: Path
) -> None:
    # The clip's video as fMP4: an init Object and 1 s media Objects, uploaded to the
    # store's own storage and registered with the init Object.
    cut = await asyncio.to_thread(fragment, clip_mp4, tmp_path)
    flow = {
        "id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()),
        "format": "urn:x-nmos:format:video", "codec": "video/h264", "container": "video/mp4",
        "essence_parameters": {
            "frame_width": 320, "frame_height": 240,
            "frame_rate": {"numerator": 25, "denominator": 1}, "init_segments": True,
        },
    }  # fmt: skip
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    allocated = await http.post(f"/flows/{flow['id']}/storage", json={"limit": 1 + len(cut.media)})
    objects = allocated.json()["media_objects"]
    for item, path in zip(objects, [cut.init, *cut.media], strict=True):
        put = item["put_url"]
        uploaded = await http.put(
            put["url"], content=path.read_bytes(), headers={"content-type": put["content-type"]}
        )
        assert uploaded.status_code < 300, uploaded.text
    init_id, start, posts = objects[0]["object_id"], 0, []
    for item, duration in zip(objects[1:], cut.durations_ns, strict=True):
        timerange = f"[{start // S}:{start % S}_{(start + duration) // S}:{(start + duration) % S})"
        posts.append(
            {"object_id": item["object_id"], "timerange": timerange, "init_object_id": init_id}
        )
        start += duration
    registered = await http.post(f"/flows/{flow['id']}/segments", json=posts)
    assert registered.status_code == 201, registered.text

    text = (await http.get(f"/hls/flows/{flow['id']}/index.m3u8")).text
    (map_uri,) = tag_values(text, "#EXT-X-MAP")
    assert init_id.split("/")[-1] in map_uri
    assert "signature=" in map_uri
    assert tag_values(text, "#EXT-X-VERSION") == ["6"]
    assert len(uris(text)) == len(cut.media)
    frames, _ = await asyncio.to_thread(
        decode_url, f"{running.http_url}/hls/flows/{flow['id']}/index.m3u8"
    )
    assert frames == (await asyncio.to_thread(decode, clip_mp4)).frames


async def test_a_long_vod_playlist_reads_one_page_and_says_where_the_rest_starts(
    channel: grpc.aio.Channel, http: httpx.AsyncClient
) -> None:
    flow_id = await external_flow(channel, regular(1005, 0))
    answer = await http.get(f"/hls/flows/{flow_id}/index.m3u8")
    assert answer.headers["x-playlist-truncated"] == "true"
    assert len(uris(answer.text)) == 1000
    end = 1000 * STEP
    assert f"timerange=[{end // S}:{end % S}_" in answer.text.splitlines()[-1]
    rest = await http.get(
        f"/hls/flows/{flow_id}/index.m3u8", params={"timerange": f"[{end // S}:{end % S}_"}
    )
    assert len(uris(rest.text)) == 5
    assert "x-playlist-truncated" not in rest.headers


async def test_unknown_flows_and_sources_are_404(http: httpx.AsyncClient) -> None:
    unknown = str(uuid.uuid4())
    flow = await http.get(f"/hls/flows/{unknown}/index.m3u8")
    assert flow.status_code == 404
    assert flow.json()["type"] == "FLOW_NOT_FOUND"
    source = await http.get(f"/hls/sources/{unknown}/master.m3u8")
    assert source.status_code == 404
    assert source.json()["type"] == "SOURCE_NOT_FOUND"


async def test_a_source_without_video_or_audio_is_404(
    channel: grpc.aio.Channel, http: httpx.AsyncClient
) -> None:
    flow = flows_pb2.Flow(
        id=str(uuid.uuid4()), source_id=str(uuid.uuid4()), format="urn:x-nmos:format:data",
        codec="text/plain", container="application/json",
        data=flows_pb2.DataEssenceParameters(),
    )  # fmt: skip
    await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    answer = await http.get(f"/hls/sources/{flow.source_id}/master.m3u8")
    assert answer.status_code == 404
    assert "no video or audio flow" in answer.json()["summary"]


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("flows", {"live": "maybe"}, "live"),
        ("flows", {"window": "0"}, "window"),
        ("flows", {"window": "1001"}, "window"),
        ("flows", {"window": "ten"}, "window"),
        ("flows", {"timerange": "[1:0_nonsense"}, "timerange"),
        ("sources", {"live": "yes"}, "live"),
        ("sources", {"window": "-1"}, "window"),
    ],
)
async def test_bad_parameters_are_400(
    channel: grpc.aio.Channel,
    http: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    named: str,
) -> None:
    flow_id = await external_flow(channel, regular(1, 0))
    source = (await http.get(f"/flows/{flow_id}")).json()["source_id"]
    url = (
        f"/hls/flows/{flow_id}/index.m3u8"
        if path == "flows"
        else f"/hls/sources/{source}/master.m3u8"
    )
    answer = await http.get(url, params=params)
    assert answer.status_code == 400, answer.text
    assert named in answer.json()["summary"]


async def test_the_readme_hls_lines_run(running: RunningServer, ingested: dict[str, Any]) -> None:
    section = README.read_text().split("## Play it back with HLS", 1)[1]
    script = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line for line in script.splitlines() if not line.startswith("SOURCE=")]
    assert sum(line.startswith("curl ") for line in lines) == 2
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-euo", "pipefail", "-c",
         "\n".join(lines).replace("http://127.0.0.1:8000", running.http_url)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "SOURCE": ingested["source_id"], "FLOW": ingested["flows"][1]["id"]},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("#EXTM3U") == 2
    assert "#EXT-X-STREAM-INF:" in done.stdout
    assert "#EXT-X-ENDLIST" in done.stdout


async def test_the_gateway_alone_serves_the_playlists(
    running: RunningServer, ingested: dict[str, Any]
) -> None:
    video = ingested["flows"][1]["id"]
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        master = await http.get(f"/hls/sources/{ingested['source_id']}/master.m3u8")
        media = await http.get(f"/hls/flows/{video}/index.m3u8")
    assert master.status_code == media.status_code == 200
    assert uris(master.text) == [f"/hls/flows/{video}/index.m3u8"]
    assert len(uris(media.text)) == SECONDS
