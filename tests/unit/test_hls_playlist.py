"""The HLS renderers (pure): media playlists from Segments, master playlists from
renditions, and the gateway's reading of the server's timeranges."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tams.v1 import common_pb2, flows_pb2
from tams_server.gateway.hls.master import Kind, Rendition, render_master_playlist
from tams_server.gateway.hls.playlist import (
    MediaPlaylist,
    MediaSegment,
    media_sequence_of,
    program_date_time,
    render_media_playlist,
    safe_uri,
    target_duration_s,
)
from tams_server.gateway.hls.renditions import codecs_of, estimated_bps, rendition_of
from tams_server.gateway.hls.timing import bounds
from tams_server.tai import NS_PER_S, utc_datetime_to_tai_ns

S = NS_PER_S


def run(*spans: tuple[float, float], init: str | None = None) -> list[MediaSegment]:
    """Segments over these (start, end) seconds, named by their order."""
    return [
        MediaSegment(round(a * S), round(b * S), f"https://store.test/{i}.ts", init)
        for i, (a, b) in enumerate(spans)
    ]


def tags(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name)]


def test_a_vod_playlist_lists_every_segment_with_its_duration_and_ends() -> None:
    text = render_media_playlist(MediaPlaylist(run((0, 2), (2, 4), (4, 5.5)), live=False))
    lines = text.splitlines()
    assert lines[:5] == [
        "#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]  # fmt: skip
    assert tags(text, "#EXTINF") == ["#EXTINF:2.000000,", "#EXTINF:2.000000,", "#EXTINF:1.500000,"]
    assert [line for line in lines if not line.startswith("#")] == [
        f"https://store.test/{i}.ts" for i in range(3)
    ]
    assert lines[-1] == "#EXT-X-ENDLIST"
    assert tags(text, "#EXT-X-DISCONTINUITY") == []


def test_a_live_playlist_has_no_end_and_no_playlist_type() -> None:
    text = render_media_playlist(
        MediaPlaylist(run((10, 12), (12, 14)), live=True, media_sequence=5)
    )
    assert "#EXT-X-ENDLIST" not in text
    assert "#EXT-X-PLAYLIST-TYPE" not in text
    assert "#EXT-X-MEDIA-SEQUENCE:5" in text


def test_a_gap_or_an_overlap_is_a_discontinuity_with_its_own_date_and_time() -> None:
    text = render_media_playlist(MediaPlaylist(run((0, 1), (1, 2), (5, 6), (5.5, 7)), live=False))
    lines = text.splitlines()
    assert len(tags(text, "#EXT-X-DISCONTINUITY")) == 2
    dates = tags(text, "#EXT-X-PROGRAM-DATE-TIME")
    assert dates == [
        f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(round(t * S))}" for t in (0, 5, 5.5)
    ]
    # The discontinuity comes before the Segment that starts elsewhere.
    third = lines.index("https://store.test/2.ts")
    assert "#EXT-X-DISCONTINUITY" in lines[third - 3 : third]


def test_init_objects_are_maps_written_when_they_change_and_need_version_6() -> None:
    first = run((0, 1), (1, 2), init="https://store.test/init-a.mp4")
    second = [
        MediaSegment(2 * S, 3 * S, "https://store.test/x.m4s", "https://store.test/init-b.mp4")
    ]
    text = render_media_playlist(MediaPlaylist([*first, *second], live=False))
    assert tags(text, "#EXT-X-MAP") == [
        '#EXT-X-MAP:URI="https://store.test/init-a.mp4"',
        '#EXT-X-MAP:URI="https://store.test/init-b.mp4"',
    ]
    assert "#EXT-X-VERSION:6" in text


def test_program_date_time_is_the_tai_instant_in_utc() -> None:
    moment = datetime(2024, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)
    assert program_date_time(utc_datetime_to_tai_ns(moment)) == "2024-06-01T12:30:15.250Z"
    # TAI was 37 s ahead of UTC then: the TAI timestamp itself reads 37 s later.
    assert utc_datetime_to_tai_ns(moment) // S - int(moment.timestamp()) == 37


def test_target_duration_is_the_ceiling_of_the_longest_segment() -> None:
    assert target_duration_s(run((0, 2), (2, 4.001))) == 3
    assert target_duration_s(run((0, 0.5))) == 1
    assert target_duration_s([], empty=6) == 6


def test_an_empty_playlist_announces_the_nominal_target() -> None:
    text = render_media_playlist(MediaPlaylist([], live=True, empty_target_s=4))
    assert "#EXT-X-TARGETDURATION:4" in text
    assert "#EXTINF" not in text


def test_uris_cannot_break_out_of_their_line_or_attribute() -> None:
    hostile = 'https://x.test/a"b\n#EXT-X-ENDLIST\r c'
    assert safe_uri(hostile) == "https://x.test/a%22b%0A#EXT-X-ENDLIST%0D%20c"
    segment = MediaSegment(0, S, hostile, hostile)
    text = render_media_playlist(MediaPlaylist([segment], live=True))
    assert "#EXT-X-ENDLIST" not in text.splitlines()


def test_media_sequence_follows_the_timeline_for_regular_segments() -> None:
    assert media_sequence_of(0, 2 * S) == 0
    assert media_sequence_of(20 * S, 2 * S) == 10
    assert media_sequence_of(20 * S - 1000, 2 * S) == 10  # a little early keeps its number
    assert media_sequence_of(5 * S, 0) == 0


segment_runs = st.lists(
    st.tuples(st.integers(0, 3 * S), st.integers(1, 12 * S)), min_size=1, max_size=30
)


@given(segment_runs)
def test_any_playlist_is_well_formed(gaps_and_durations: list[tuple[int, int]]) -> None:
    segments, at = [], 10**18
    for gap, duration in gaps_and_durations:
        start = at + gap
        segments.append(MediaSegment(start, start + duration, f"https://s.test/{start}"))
        at = start + duration
    text = render_media_playlist(MediaPlaylist(segments, live=False))
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[-1] == "#EXT-X-ENDLIST"
    durations = [float(line[8:-1]) for line in tags(text, "#EXTINF:")]
    assert len(durations) == len(segments)
    target = int(tags(text, "#EXT-X-TARGETDURATION:")[0].split(":")[1])
    # RFC 8216: each EXTINF rounded to the nearest integer is at most the target.
    assert target == max(1, math.ceil(max(durations)))
    assert all(round(d) <= target for d in durations)
    # Each duration is written to the microsecond.
    for written, segment in zip(durations, segments, strict=True):
        assert abs(written * S - (segment.end_ns - segment.start_ns)) <= 500 + 1
    starts_elsewhere = sum(1 for gap, _ in gaps_and_durations[1:] if gap)
    assert len(tags(text, "#EXT-X-DISCONTINUITY")) == starts_elsewhere


def test_timeranges_the_server_writes_are_read_as_bounds() -> None:
    assert bounds("[10:500_12:0)") == (10 * S + 500, 12 * S)
    assert bounds("[-1:0_0:0)") == (-S, 0)
    assert bounds("[3:0]") == (3 * S, 3 * S + 1)
    for open_or_odd in ("[3:0_", "_3:0)", "_", "()", "(3:0_4:0)", "nonsense"):
        assert bounds(open_or_odd) is None


def video_flow(**fields: object) -> flows_pb2.Flow:
    flow = flows_pb2.Flow(
        id="v", format="urn:x-nmos:format:video", codec="video/h264", label="camera",
        video=flows_pb2.VideoEssenceParameters(
            frame_width=1920, frame_height=1080,
            frame_rate=common_pb2.Rational(numerator=50),
            avc_parameters=flows_pb2.AvcParameters(profile=100, level=40, flags=0),
        ),
    )  # fmt: skip
    for name, value in fields.items():
        setattr(flow, name, value)
    return flow


AUDIO = flows_pb2.Flow(
    id="a", format="urn:x-nmos:format:audio", codec="audio/aac", label="mix",
    audio=flows_pb2.AudioEssenceParameters(sample_rate=48000, channels=2),
)  # fmt: skip


def test_renditions_take_declared_bit_rates_codecs_and_picture() -> None:
    rendition = rendition_of(video_flow(max_bit_rate=8000, avg_bit_rate=6000), "v.m3u8")
    assert rendition is not None
    assert (rendition.kind, rendition.bandwidth, rendition.average_bandwidth) == (
        Kind.VIDEO, 8_000_000, 6_000_000,
    )  # fmt: skip
    assert rendition.codecs == "avc1.640028"
    assert (rendition.resolution, rendition.frame_rate) == ((1920, 1080), 50.0)


def test_renditions_without_bit_rates_are_estimated() -> None:
    assert estimated_bps(video_flow()) == round(1920 * 1080 * 50 * 0.1)
    assert estimated_bps(AUDIO) == 128_000
    unknown = flows_pb2.Flow(format="urn:x-nmos:format:video", codec="video/h265")
    assert codecs_of(unknown) is None
    assert rendition_of(flows_pb2.Flow(format="urn:x-nmos:format:data"), "d.m3u8") is None


def test_a_master_playlist_groups_audio_under_each_video_variant() -> None:
    video, audio = rendition_of(video_flow(), "/v.m3u8"), rendition_of(AUDIO, "/a.m3u8")
    assert video is not None
    assert audio is not None
    text = render_master_playlist([audio, video])
    lines = text.splitlines()
    assert lines[:2] == ["#EXTM3U", "#EXT-X-VERSION:3"]
    (media,) = tags(text, "#EXT-X-MEDIA:")
    assert 'TYPE=AUDIO,GROUP-ID="audio",NAME="mix",DEFAULT=YES' in media
    assert media.endswith('URI="/a.m3u8"')
    (variant,) = tags(text, "#EXT-X-STREAM-INF:")
    bandwidth = round(1920 * 1080 * 50 * 0.1) + 128_000
    assert variant == (
        f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="avc1.640028,mp4a.40.2",'
        'RESOLUTION=1920x1080,FRAME-RATE=50.000,AUDIO="audio"'
    )
    assert lines[lines.index(variant) + 1] == "/v.m3u8"


def test_audio_alone_is_a_variant_and_unknown_codecs_are_left_out() -> None:
    audio = Rendition(Kind.AUDIO, "/a.m3u8", 'a "quoted"\nname', 96_000)
    text = render_master_playlist([audio])
    assert tags(text, "#EXT-X-STREAM-INF:") == ["#EXT-X-STREAM-INF:BANDWIDTH=96000"]
    assert "#EXT-X-MEDIA" not in text
    named = render_master_playlist([audio, Rendition(Kind.VIDEO, "/v", "v", 1)])
    assert re.search(r'NAME="a \'quoted\'\'name"', named)
