"""The official TAMS spec, read from the copy vendored in the server package
(``tams_server/gateway/openapi``), so the suite needs nothing beside the repository."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _vendored_folder() -> Path:
    folder = files("tams_server.gateway").joinpath("openapi")
    # Tests copy and glob it: they need a real folder, which an installed (or editable)
    # package always has.
    assert isinstance(folder, Path), f"the spec is not in a folder: {folder!r}"
    return folder


SPEC_FOLDER = _vendored_folder()
SPEC_FILE = SPEC_FOLDER / "TimeAddressableMediaStore.yaml"
EXAMPLES = SPEC_FOLDER / "examples"
