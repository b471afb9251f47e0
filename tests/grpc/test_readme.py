"""The README's examples run as written (against the test server)."""

from __future__ import annotations

import asyncio
import re
import runpy
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import grpc
import pytest

from helpers.factories import new_id
from helpers.objects import external_post, new_flow
from tams.v1 import (
    events_pb2,
    events_pb2_grpc,
    flows_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.DOTALL)


# The upload example (1) runs first, so the listing example (0) has a flow to print.
@pytest.mark.parametrize("index", [1, 0])
async def test_python_examples_run(
    grpc_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], index: int
) -> None:
    assert len(_blocks("python")) == 3
    example = _blocks("python")[index]
    script = tmp_path / "example.py"
    script.write_text(example.replace("127.0.0.1:50051", grpc_target))
    await asyncio.to_thread(runpy.run_path, str(script))
    printed = capsys.readouterr().out
    assert printed  # the first lists flows: at least the upload example's
    if index == 1:  # the upload example: two segments in, no failures, URLs out
        assert printed.startswith("2 []")
        assert printed.count("/_objects/") == 3


async def test_the_events_example_follows_registrations(
    grpc_target: str, channel: grpc.aio.Channel, tmp_path: Path
) -> None:
    example = _blocks("python")[2]
    # Start it from the newest cursor: it then sees the registration below, made
    # before it runs (the saved-cursor case of the example).
    call = events_pb2_grpc.EventServiceStub(channel).WatchEvents(events_pb2.WatchEventsRequest())
    first = await call.read()
    call.cancel()
    assert isinstance(first, events_pb2.WatchEventsResponse)
    script = tmp_path / "follow.py"
    script.write_text(
        example.replace("127.0.0.1:50051", grpc_target).replace(
            'cursor = ""', f'cursor = "{first.resume_cursor}"'
        )
    )
    flows = flows_pb2_grpc.FlowServiceStub(channel)
    flow_id = await new_flow(flows)
    await segments_pb2_grpc.SegmentServiceStub(channel).RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=flow_id, segments=[external_post(new_id(), "[0:0_2:0)")]
        )
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            while flow_id not in (line := (await process.stdout.readline()).decode()):
                assert line, "the example ended"
    finally:
        process.kill()
        await process.wait()
    cursor, printed_flow, timeranges = line.split(" ", 2)
    assert int(cursor) > int(first.resume_cursor)
    assert printed_flow == flow_id
    assert timeranges.strip() == "['[0:0_2:0)']"


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
