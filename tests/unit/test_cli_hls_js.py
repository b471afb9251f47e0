"""``--hls-js`` (TAMS_HLS_JS): where the player page's hls.js comes from, for ``serve``
and ``gateway`` alike; unset, the source tree's npm install."""

from __future__ import annotations

from pathlib import Path

import pytest

from tams_server.cli import build_parser, config_from_args


def test_the_flag_reaches_the_config() -> None:
    args = build_parser().parse_args(["serve", "--hls-js", "/opt/hls/hls.min.js"])
    assert config_from_args(args).hls_js == Path("/opt/hls/hls.min.js")
    assert config_from_args(build_parser().parse_args(["serve"])).hls_js is None
    gateway = build_parser().parse_args(["gateway", "--hls-js", "/opt/hls/hls.min.js"])
    assert gateway.hls_js == Path("/opt/hls/hls.min.js")


def test_the_environment_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAMS_HLS_JS", "/srv/hls.min.js")
    assert config_from_args(build_parser().parse_args(["serve"])).hls_js == Path("/srv/hls.min.js")
