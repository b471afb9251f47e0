"""``tams --help`` and the listings start without loading PyAV (FFmpeg's libraries
take a few hundred milliseconds to load): only ingest and export import it."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import sys
from tams_cli._app import cli
cli(sys.argv[1:], prog_name="tams", standalone_mode=False)
print("av loaded" if "av" in sys.modules else "av not loaded", file=sys.stderr)
"""


def _av_loaded(*args: str) -> bool:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=True
    )
    return "av loaded" in run.stderr.splitlines()


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("flows", "ls", "--help"),
        ("ingest", "--help"),
        ("watch", "--help"),
        ("clip", "--help"),
        ("concat", "--help"),
    ],
)
def test_help_and_listings_do_not_load_pyav(args: tuple[str, ...]) -> None:
    assert not _av_loaded(*args)


def test_the_probe_sees_pyav_when_it_is_loaded() -> None:
    # The check above can fail: importing the ingest module does load PyAV.
    probe = "import sys, tams_cli._ingest; print('av' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "True"
