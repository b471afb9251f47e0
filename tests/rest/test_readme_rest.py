"""The README's curl lines run against the real gateway and succeed."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tams_server.app import RunningServer

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Call it over REST"


def curl_script(section_title: str = SECTION) -> str:
    """The first sh block of a section of the README (its REST section by default)."""
    section = README.read_text().split(section_title, 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


async def test_the_readme_curl_lines_run(running: RunningServer) -> None:
    script = curl_script().replace("http://127.0.0.1:8000", running.http_url)
    assert script.count("curl ") == 5
    done = await asyncio.to_thread(
        subprocess.run, ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"api_version":"8.2"' in done.stdout
    assert "x-paging-limit: 100" in done.stdout.lower()
    assert '"coverage":1.0' in done.stdout


async def test_the_readme_webhook_lines_run(running: RunningServer) -> None:
    script = curl_script("### Webhooks").replace("http://127.0.0.1:8000", running.http_url)
    assert script.count("curl ") == 2
    done = await asyncio.to_thread(
        subprocess.run, ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"status":"created"' in done.stdout
    assert "a-secret-the-receiver-checks" not in done.stdout
