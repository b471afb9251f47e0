"""The ``tams`` command line: listings, media ingest (split real files into Segments
without re-encoding), export (remux a Flow back into a playable file) and watch.

Exit codes are listed in ``tams_cli._exits``."""

from tams_cli._app import main

__all__ = ["main"]
