"""The failures of the media commands, in a module of their own so that reporting
them (``tams_cli._exits``) does not load PyAV: ``tams --help`` and the listings
start without it."""

from __future__ import annotations


class MediaError(Exception):
    """The file cannot be read as media, or holds nothing to ingest."""


class IngestIncompleteError(Exception):
    """Some Segments were not registered; running the same command again resumes."""


class NothingToExportError(Exception):
    """The Flow has no Segments in the range asked for."""
