"""HLS test helpers: Flows of external Segments placed where a test wants them, and
reading playlists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import grpc

from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc, segments_pb2, segments_pb2_grpc
from tams_server.tai import NS_PER_S

SECONDS = 4
"""Length of the ingested clip (`hls/conftest.py`)."""


def timestamp(ns: int) -> str:
    seconds, nanoseconds = divmod(ns, NS_PER_S)
    return f"{seconds}:{nanoseconds}"


@dataclass(frozen=True)
class Span:
    """A Segment to place: [start, end) in nanoseconds, and its init Object."""

    start: int
    end: int
    init_object_id: str | None = None


Metadata = tuple[tuple[str, str], ...]


async def external_flow(
    channel: grpc.aio.Channel, spans: Sequence[Span], metadata: Metadata = (), **flow_fields: Any
) -> str:
    """A new video Flow (``flow_fields`` set on it) with a Segment of an external Object
    (``https://media.example/<object id>``) for each span; its id. ``metadata`` goes
    with the calls (credentials)."""
    flow_fields.setdefault("container", "video/mp2t")
    flow = flows_pb2.Flow(
        id=str(uuid.uuid4()), source_id=str(uuid.uuid4()), format="urn:x-nmos:format:video",
        codec="video/h264",
        video=flows_pb2.VideoEssenceParameters(
            frame_width=320, frame_height=240, frame_rate=common_pb2.Rational(numerator=25)
        ),
        **flow_fields,
    )  # fmt: skip
    await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(
        flows_pb2.CreateFlowRequest(flow=flow), metadata=metadata
    )
    await add_segments(channel, flow.id, spans, metadata)
    return flow.id


async def add_segments(
    channel: grpc.aio.Channel, flow_id: str, spans: Sequence[Span], metadata: Metadata = ()
) -> None:
    """A Segment of an external Object for each span, on the Flow; the Objects' ids
    end in ``-<index in spans>``."""
    prefix = uuid.uuid4().hex[:8]
    posts = []
    for index, span in enumerate(spans):
        object_id = f"{prefix}-{index}"
        post = segments_pb2.SegmentPost(
            object_id=object_id,
            timerange=f"[{timestamp(span.start)}_{timestamp(span.end)})",
            get_urls=[segments_pb2.UncontrolledUrl(url=f"https://media.example/{object_id}",
                                                   label="cdn")],
        )  # fmt: skip
        if span.init_object_id is not None:
            post.init_object_id = span.init_object_id
        posts.append(post)
    for first in range(0, len(posts), 5000):
        answer = await segments_pb2_grpc.SegmentServiceStub(channel).RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(
                flow_id=flow_id, segments=posts[first : first + 5000]
            ),
            metadata=metadata,
        )
        assert not answer.failed_segments, answer.failed_segments


def uris(playlist: str) -> list[str]:
    """The URI lines of a playlist."""
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def tag_values(playlist: str, tag: str) -> list[str]:
    """The values of each ``#TAG:value`` line."""
    return [line.split(":", 1)[1] for line in playlist.splitlines() if line.startswith(tag + ":")]


@dataclass(frozen=True)
class Fragmented:
    """A clip's video cut into fMP4 by FFmpeg's HLS muxer: the init file, the media
    files, and each one's duration in nanoseconds (from the muxer's own playlist)."""

    init: Path
    media: list[Path]
    durations_ns: list[int]


def fragment(clip: Path, folder: Path, seconds: int = 1) -> Fragmented:
    """``clip``'s video (no re-encoding) as fMP4 of about ``seconds`` each, in
    ``folder``."""
    playlist = folder / "index.m3u8"
    options = {
        "hls_segment_type": "fmp4", "hls_time": str(seconds), "hls_playlist_type": "vod",
        "hls_fmp4_init_filename": "init.mp4", "hls_segment_filename": str(folder / "%d.m4s"),
    }  # fmt: skip
    with av.open(str(clip)) as source, av.open(str(playlist), "w", "hls", options=options) as out:
        video = source.streams.video[0]
        copy = out.add_stream_from_template(video)
        for packet in source.demux(video):
            if packet.dts is not None:
                packet.stream = copy
                out.mux(packet)
    lines = playlist.read_text().splitlines()
    durations = [
        round(Fraction(line.removeprefix("#EXTINF:").rstrip(",")) * NS_PER_S)
        for line in lines
        if line.startswith("#EXTINF:")
    ]
    media = [folder / line for line in lines if line.endswith(".m4s")]
    return Fragmented(folder / "init.mp4", media, durations)
