"""Names the media modules share (kinds of essence, Segment containers), in a module
that loads nothing, so that the Flow descriptions (``tams_cli._flows``) and what
imports them (``tams clip``, ``tams concat``) start without PyAV."""

from __future__ import annotations

VIDEO = "video"
AUDIO = "audio"

TS = "ts"
FMP4 = "fmp4"
CONTAINERS = (TS, FMP4)
