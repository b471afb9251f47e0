"""``--rest-dialect`` (TAMS_REST_DIALECT) is checked when the command line is read;
``--list-shape`` (TAMS_LIST_SHAPE) stays one release as its deprecated alias."""

from __future__ import annotations

import logging

import pytest

from tams_server.cli import build_parser, config_from_args, rest_dialect


def test_the_dialect_reaches_the_config() -> None:
    args = build_parser().parse_args(["serve", "--rest-dialect", "guide-7.0"])
    assert config_from_args(args).rest_dialect == "guide-7.0"
    assert config_from_args(build_parser().parse_args(["serve"])).rest_dialect == "spec"
    gateway = build_parser().parse_args(["gateway", "--rest-dialect", "guide-7.0"])
    assert rest_dialect(gateway) == "guide-7.0"


def test_the_environment_chooses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAMS_REST_DIALECT", "guide-7.0")
    assert config_from_args(build_parser().parse_args(["serve"])).rest_dialect == "guide-7.0"


def test_an_unknown_dialect_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["gateway", "--rest-dialect", "fastapi"])
    assert "choose spec or guide-7.0, not 'fastapi'" in capsys.readouterr().err


def test_list_shape_is_a_deprecated_alias(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tams_server"):
        args = build_parser().parse_args(["serve", "--list-shape", "wrapped"])
        assert config_from_args(args).rest_dialect == "guide-7.0"
    assert "--list-shape (TAMS_LIST_SHAPE) is deprecated" in caplog.text
    assert "--rest-dialect guide-7.0" in caplog.text
    spec = build_parser().parse_args(["serve", "--list-shape", "spec"])
    assert config_from_args(spec).rest_dialect == "spec"
    both = build_parser().parse_args(["serve", "--list-shape", "spec", "--rest-dialect",
                                      "guide-7.0"])  # fmt: skip
    assert config_from_args(both).rest_dialect == "guide-7.0"  # the new flag wins


def test_an_unknown_list_shape_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["gateway", "--list-shape", "data"])
    assert "choose spec or wrapped, not 'data'" in capsys.readouterr().err
