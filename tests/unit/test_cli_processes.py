"""``--processes`` (TAMS_PROCESSES): a whole number, 1 or more, checked when the
command line is read; 1 (the default) serves in this process, as ever."""

from __future__ import annotations

import pytest

from tams_server.cli import build_parser


def test_the_default_is_one_process() -> None:
    assert build_parser().parse_args(["serve"]).processes == 1


def test_the_flag_and_the_environment_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_parser().parse_args(["serve", "--processes", "4"]).processes == 4
    monkeypatch.setenv("TAMS_PROCESSES", "3")
    assert build_parser().parse_args(["serve"]).processes == 3
    assert build_parser().parse_args(["serve", "--processes", "2"]).processes == 2


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0", "give 1 or more, not '0'"),
        ("-2", "give 1 or more, not '-2'"),
        ("1.5", "give a whole number, 1 or more, not '1.5'"),
        ("two", "give a whole number, 1 or more, not 'two'"),
        ("", "give a whole number, 1 or more, not ''"),
    ],
)
def test_a_bad_count_is_refused(
    value: str, reason: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--processes", value])
    assert exited.value.code == 2
    assert f"argument --processes: {reason}" in capsys.readouterr().err
    monkeypatch.setenv("TAMS_PROCESSES", value)  # the variable is checked alike
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve"])
    assert reason in capsys.readouterr().err


def test_only_serve_has_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["migrate", "--processes", "2"])
    assert "unrecognized arguments: --processes 2" in capsys.readouterr().err
