"""``--list-shape`` (TAMS_LIST_SHAPE) is checked when the command line is read."""

from __future__ import annotations

import pytest

from tams_server.cli import build_parser, config_from_args


def test_the_wrapped_shape_reaches_the_config() -> None:
    args = build_parser().parse_args(["serve", "--list-shape", "wrapped"])
    assert config_from_args(args).list_shape == "wrapped"
    assert config_from_args(build_parser().parse_args(["serve"])).list_shape == "spec"


def test_an_unknown_shape_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["gateway", "--list-shape", "data"])
    assert "choose spec or wrapped, not 'data'" in capsys.readouterr().err
