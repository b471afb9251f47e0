"""The Flows an ingest creates, from the probed essences: one per essence (its own
Source of the essence's format) and one multi-essence Flow collecting them, whose
Source is the one the command reports."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from tams.v1 import common_pb2, flows_pb2
from tams_cli._media_names import AUDIO, FMP4, TS, VIDEO

if TYPE_CHECKING:
    from tams_cli._probe import Essence

FORMATS = {
    VIDEO: "urn:x-nmos:format:video",
    AUDIO: "urn:x-nmos:format:audio",
}
MULTI_FORMAT = "urn:x-nmos:format:multi"
TS_CONTAINER = "video/mp2t"
# The Flow ``container`` (a media type) of each Segment container, per kind of Flow.
MEDIA_TYPES = {
    TS: {VIDEO: TS_CONTAINER, AUDIO: TS_CONTAINER, "multi": TS_CONTAINER},
    FMP4: {VIDEO: "video/mp4", AUDIO: "audio/mp4", "multi": "video/mp4"},
}


@dataclass(frozen=True)
class FlowIds:
    """The ids an ingest uses: the multi-essence Source and Flow, and per essence
    (by stream index) its Flow and Source."""

    source_id: str
    multi_flow_id: str
    flows: dict[int, tuple[str, str]]  # stream index -> (flow id, source id)


def essence_flow(
    essence: Essence, ids: FlowIds, label: str, segment_duration: Fraction, container: str = TS
) -> flows_pb2.Flow:
    """The Flow of one essence, its parameters from the probe; its Segments are
    ``container`` Objects (``fmp4``: each with the Flow's init Object)."""
    flow_id, source_id = ids.flows[essence.index]
    flow = flows_pb2.Flow(
        id=flow_id,
        source_id=source_id,
        format=FORMATS[essence.kind],
        label=f"{label} ({essence.kind} {essence.index})",
        codec=essence.codec,
        container=MEDIA_TYPES[container][essence.kind],
        segment_duration=_rational(segment_duration),
    )
    init = container == FMP4
    if essence.bit_rate:
        flow.avg_bit_rate = max(1, round(essence.bit_rate / 1000))
    if essence.kind == VIDEO:
        flow.video.CopyFrom(_video(essence, init))
    else:
        flow.audio.CopyFrom(_audio(essence, init))
    return flow


def multi_flow(
    essences: list[Essence],
    ids: FlowIds,
    label: str,
    segment_duration: Fraction,
    container: str = TS,
) -> flows_pb2.Flow:
    """The multi-essence Flow collecting the essences' Flows, in stream order; its
    ``container`` and ``init_segments`` are its members'."""
    return flows_pb2.Flow(
        id=ids.multi_flow_id,
        source_id=ids.source_id,
        format=MULTI_FORMAT,
        label=label,
        container=MEDIA_TYPES[container]["multi"],
        segment_duration=_rational(segment_duration),
        multi=flows_pb2.MultiEssenceParameters(init_segments=container == FMP4),
        flow_collection=[
            common_pb2.CollectionItem(
                id=ids.flows[essence.index][0], role=f"{essence.kind}_{essence.index}"
            )
            for essence in essences
        ],
    )


def _video(essence: Essence, init: bool) -> flows_pb2.VideoEssenceParameters:
    params = flows_pb2.VideoEssenceParameters(
        frame_width=essence.width, frame_height=essence.height, init_segments=init
    )
    if essence.frame_rate is not None:
        params.frame_rate.CopyFrom(_rational(essence.frame_rate))
    else:
        params.vfr = True
    if essence.bit_depth is not None:
        params.bit_depth = essence.bit_depth
    if essence.chroma_subsampling is not None:
        params.component_type = "YCbCr"
        params.horiz_chroma_subs, params.vert_chroma_subs = essence.chroma_subsampling
    if essence.avc is not None:
        profile, level, flags = essence.avc
        params.avc_parameters.CopyFrom(
            flows_pb2.AvcParameters(profile=profile, level=level, flags=flags)
        )
    return params


def _audio(essence: Essence, init: bool) -> flows_pb2.AudioEssenceParameters:
    params = flows_pb2.AudioEssenceParameters(
        sample_rate=essence.sample_rate, channels=essence.channels, init_segments=init
    )
    if essence.coded_frame_size is not None:
        params.codec_parameters.coded_frame_size = essence.coded_frame_size
    if essence.mp4_oti is not None:
        params.codec_parameters.mp4_oti = essence.mp4_oti
    return params


def _rational(value: Fraction) -> common_pb2.Rational:
    rational = common_pb2.Rational(numerator=value.numerator)
    if value.denominator != 1:
        rational.denominator = value.denominator
    return rational
