"""Media playlists (RFC 8216 section 4.3.3): Segments in, playlist text out. Pure.

Durations come from the Segments' timeranges, to the microsecond; the target duration
is the ceiling of the longest (as written). A gap or overlap between one Segment's end
and the next one's start is an ``EXT-X-DISCONTINUITY`` and restarts the
``EXT-X-PROGRAM-DATE-TIME`` (the TAI timeline in UTC). An init Object becomes an
``EXT-X-MAP`` whenever it changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tams_server.tai import tai_ns_to_utc_datetime

_NS_PER_US = 1000
_US_PER_S = 1_000_000
# Characters a URI line or a quoted attribute may not hold as they are: control
# characters (a line break would start a tag of its own), space and the quote.
_UNSAFE = re.compile(r'[\x00-\x20\x7f"]')


@dataclass(frozen=True)
class MediaSegment:
    """One Segment of a playlist: its place on the Flow's timeline (TAI nanoseconds,
    half-open), where to get it, and where to get its init Object, if any."""

    start_ns: int
    end_ns: int
    uri: str
    init_uri: str | None = None

    @property
    def duration_us(self) -> int:
        """Duration in whole microseconds (the precision EXTINF is written with)."""
        return round((self.end_ns - self.start_ns) / _NS_PER_US)


@dataclass(frozen=True)
class MediaPlaylist:
    """What a media playlist says: its Segments in timeline order, whether it is live
    (no ``EXT-X-ENDLIST``, a sliding window) or VOD, the media sequence number of its
    first Segment, and the target duration to announce when it has no Segments."""

    segments: Sequence[MediaSegment]
    live: bool
    media_sequence: int = 0
    empty_target_s: int = 1


def safe_uri(uri: str) -> str:
    """``uri`` with every character that could end its line or its quoted attribute
    percent-encoded (a URL given by a client must not inject tags)."""
    return _UNSAFE.sub(lambda match: f"%{ord(match[0]):02X}", uri)


def program_date_time(tai_ns: int) -> str:
    """The UTC date and time of a TAI instant, as EXT-X-PROGRAM-DATE-TIME writes it
    (ISO 8601, milliseconds, ``Z``)."""
    moment = tai_ns_to_utc_datetime(tai_ns)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def target_duration_s(segments: Sequence[MediaSegment], empty: int = 1) -> int:
    """EXT-X-TARGETDURATION: the longest EXTINF rounded up to whole seconds (at least
    1); ``empty`` for no Segments."""
    if not segments:
        return max(1, empty)
    longest = max(segment.duration_us for segment in segments)
    return max(1, -(-longest // _US_PER_S))


def extinf(duration_us: int) -> str:
    """An EXTINF duration in decimal seconds (microseconds)."""
    seconds, micros = divmod(duration_us, _US_PER_S)
    return f"{seconds}.{micros:06d}"


def render_media_playlist(playlist: MediaPlaylist) -> str:
    """The playlist's text."""
    segments = playlist.segments
    has_map = any(segment.init_uri is not None for segment in segments)
    lines = [
        "#EXTM3U",
        # EXT-X-MAP outside I-frame playlists needs version 6; decimal EXTINF, 3.
        f"#EXT-X-VERSION:{6 if has_map else 3}",
        f"#EXT-X-TARGETDURATION:{target_duration_s(segments, playlist.empty_target_s)}",
        f"#EXT-X-MEDIA-SEQUENCE:{max(0, playlist.media_sequence)}",
    ]
    if not playlist.live:
        lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    current_map: str | None = None
    previous: MediaSegment | None = None
    for segment in segments:
        restart = previous is None or segment.start_ns != previous.end_ns
        if previous is not None and restart:
            lines.append("#EXT-X-DISCONTINUITY")
        if segment.init_uri is not None and segment.init_uri != current_map:
            current_map = segment.init_uri
            lines.append(f'#EXT-X-MAP:URI="{safe_uri(current_map)}"')
        if restart:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(segment.start_ns)}")
        lines.append(f"#EXTINF:{extinf(segment.duration_us)},")
        lines.append(safe_uri(segment.uri))
        previous = segment
    if not playlist.live:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def media_sequence_of(first_start_ns: int, nominal_ns: int) -> int:
    """The media sequence number of a live window's first Segment, from its place on
    the timeline: stable across refreshes (the same Segment keeps its number, the next
    one gets the next number) for Segments of the nominal duration, without counting
    the Segments before the window (which would read the whole Flow)."""
    if nominal_ns <= 0:
        return 0
    # Rounded, not floored: a start a little early (timestamps of real capture jitter)
    # keeps its number.
    return max(0, (first_start_ns + nominal_ns // 2) // nominal_ns)


__all__ = [
    "MediaPlaylist",
    "MediaSegment",
    "extinf",
    "media_sequence_of",
    "program_date_time",
    "render_media_playlist",
    "safe_uri",
    "target_duration_s",
]
