"""Schemathesis, run as a subprocess against a running server: what the conformance
tests of the official spec and of the usage guide's dialect share. Each gives the
document to generate requests from, the checks and how many operations must run."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path


async def schemathesis(
    document: Path, url: str, *, cwd: Path, mode: str, checks: str, examples: int,
    exclude: str, least_tested: int,
) -> str:  # fmt: skip
    """Run schemathesis (in ``cwd``, where whatever it writes goes) from ``document``
    against the server at ``url``, leaving out the paths matching ``exclude``; its
    output, after asserting it passed and tested at least ``least_tested`` operations."""
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(document), "--url", url,
        "--checks", checks, "--mode", mode, "--phases", "examples,fuzzing",
        "--max-examples", str(examples), "--seed", "7", "--workers", "1",
        "--exclude-path-regex", exclude, "--suppress-health-check", "all",
    ]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=600, cwd=cwd
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert tested is not None
    assert int(tested[1]) >= least_tested, done.stdout[-3000:]  # every operation ran
    return done.stdout
