"""A Flow as a rendition of a master playlist: its kind, codec string and bandwidth.

Bandwidth is the Flow's ``max_bit_rate`` (``avg_bit_rate`` when only that is set), and
``AVERAGE-BANDWIDTH`` its ``avg_bit_rate``; a Flow that declares neither gets an
estimate: 0.1 bit per pixel per frame for video (H.264 at broadcast quality), 64 kbit/s
per audio channel. CODECS is written only where the Flow says enough: H.264 with its
``avc_parameters`` (``avc1.PPCCLL``) and AAC (``mp4a.40.2``, AAC-LC).
"""

from __future__ import annotations

from tams.v1 import flows_pb2
from tams_server.gateway.hls.master import Kind, Rendition

VIDEO_FORMAT = "urn:x-nmos:format:video"
AUDIO_FORMAT = "urn:x-nmos:format:audio"
MULTI_FORMAT = "urn:x-nmos:format:multi"
BITS_PER_PIXEL = 0.1
VIDEO_FALLBACK_BPS = 2_000_000
AUDIO_BPS_PER_CHANNEL = 64_000


def kind_of(flow: flows_pb2.Flow) -> Kind | None:
    """The rendition kind of a Flow; None for Flows HLS does not carry (data, images,
    multi-essence)."""
    return {VIDEO_FORMAT: Kind.VIDEO, AUDIO_FORMAT: Kind.AUDIO}.get(flow.format)


def codecs_of(flow: flows_pb2.Flow) -> str | None:
    """The RFC 6381 codec string of a Flow, when it can be told from its metadata."""
    if flow.codec == "video/h264" and flow.video.HasField("avc_parameters"):
        avc = flow.video.avc_parameters
        if avc.HasField("profile") and avc.HasField("level") and avc.HasField("flags"):
            return f"avc1.{avc.profile:02x}{avc.flags:02x}{avc.level:02x}"
    if flow.codec == "audio/aac":
        return "mp4a.40.2"
    return None


def frame_rate_of(flow: flows_pb2.Flow) -> float | None:
    """Frames per second of a fixed-rate video Flow."""
    rate = flow.video.frame_rate
    if flow.format != VIDEO_FORMAT or rate.numerator <= 0:
        return None
    return rate.numerator / (rate.denominator or 1)


def estimated_bps(flow: flows_pb2.Flow) -> int:
    """A bandwidth for a Flow that declares no bit rate."""
    if flow.format == AUDIO_FORMAT:
        return AUDIO_BPS_PER_CHANNEL * max(1, flow.audio.channels)
    rate = frame_rate_of(flow)
    pixels = flow.video.frame_width * flow.video.frame_height
    if rate is None or pixels <= 0:
        return VIDEO_FALLBACK_BPS
    return max(1, round(pixels * rate * BITS_PER_PIXEL))


def rendition_of(flow: flows_pb2.Flow, uri: str) -> Rendition | None:
    """The rendition of ``flow`` (its media playlist at ``uri``); None when HLS does
    not carry its format."""
    kind = kind_of(flow)
    if kind is None:
        return None
    average = flow.avg_bit_rate * 1000 if flow.HasField("avg_bit_rate") else None
    if flow.HasField("max_bit_rate"):
        peak = flow.max_bit_rate * 1000
    else:
        peak = average if average is not None else estimated_bps(flow)
    video = flow.video if kind is Kind.VIDEO else None
    resolution = None
    if video is not None and video.frame_width > 0 and video.frame_height > 0:
        resolution = (video.frame_width, video.frame_height)
    return Rendition(
        kind=kind,
        uri=uri,
        name=flow.label or flow.id,
        bandwidth=max(1, peak),
        average_bandwidth=average,
        codecs=codecs_of(flow),
        resolution=resolution,
        frame_rate=frame_rate_of(flow),
    )
