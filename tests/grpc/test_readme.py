"""The README's examples run as written (against the test server)."""

from __future__ import annotations

import asyncio
import re
import runpy
import shlex
import subprocess
import sysconfig
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.DOTALL)


# The upload example (1) runs first, so the listing example (0) has a flow to print.
@pytest.mark.parametrize("index", [1, 0])
async def test_python_examples_run(
    grpc_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], index: int
) -> None:
    assert len(_blocks("python")) == 2
    example = _blocks("python")[index]
    script = tmp_path / "example.py"
    script.write_text(example.replace("127.0.0.1:50051", grpc_target))
    await asyncio.to_thread(runpy.run_path, str(script))
    printed = capsys.readouterr().out
    assert printed  # the first lists flows: at least the upload example's
    if index == 1:  # the upload example: two segments in, no failures, URLs out
        assert printed.startswith("2 []")
        assert printed.count("/_objects/") == 3


async def test_buf_curl_examples_run(grpc_target: str) -> None:
    buf = Path(sysconfig.get_path("scripts")) / "buf"  # PyPI's buf-bin, a dev extra
    commands = [
        line for block in _blocks("sh") for line in block.split("\n") if line.startswith("buf curl")
    ]
    assert len(commands) == 5
    for command in commands:
        completed = await asyncio.to_thread(
            subprocess.run,
            command.replace("buf", shlex.quote(str(buf)), 1).replace(
                "127.0.0.1:50051", grpc_target
            ),
            shell=True,
            capture_output=True,
            text=True,
        )
        assert completed.returncode == 0, (command, completed.stderr)
        assert completed.stdout
