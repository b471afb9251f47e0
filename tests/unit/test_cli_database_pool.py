"""``--database-pool-size`` (TAMS_DATABASE_POOL_SIZE): a whole number, 1 or more, for
``serve`` and ``migrate``; unset, each engine's default."""

from __future__ import annotations

import pytest

from tams_server.cli import build_parser, config_from_args


def test_unset_leaves_the_engines_default() -> None:
    args = build_parser().parse_args(["serve"])
    assert config_from_args(args).database_pool_size is None


def test_the_flag_and_the_environment_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(["serve", "--database-pool-size", "12"])
    assert config_from_args(args).database_pool_size == 12
    monkeypatch.setenv("TAMS_DATABASE_POOL_SIZE", "7")
    assert config_from_args(build_parser().parse_args(["migrate"])).database_pool_size == 7


@pytest.mark.parametrize("value", ["0", "-1", "2.5", "many"])
def test_a_bad_size_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--database-pool-size", value])
    assert exited.value.code == 2
    assert "argument --database-pool-size: give" in capsys.readouterr().err
