"""Start-up and graceful shutdown: the CLI serves, SIGTERM stops it cleanly; health
turns NOT_SERVING before the server stops, and in-flight RPCs finish."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from helpers.factories import video_flow
from tams.v1 import flows_pb2, flows_pb2_grpc
from tams_server.app import serve
from tams_server.config import Config


async def _start_cli(data_dir: Path, database_url: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tams_server", "serve", "--grpc-port", "0", "--http-port", "0",
        "--data-dir", str(data_dir), "--database-url", database_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "TAMS_LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
    assert line.startswith("tams-server: gRPC on "), line
    return process, line.rsplit(" ", 1)[1].strip()


async def test_cli_serves_until_sigterm(tmp_path: Path, database_url: str) -> None:
    process, target = await _start_cli(tmp_path, database_url)
    try:
        async with grpc.aio.insecure_channel(target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            response = await health.Check(health_pb2.HealthCheckRequest())
            assert response.status == health_pb2.HealthCheckResponse.SERVING
            stored = await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(
                flows_pb2.CreateFlowRequest(flow=video_flow())
            )
            assert stored.flow.created.seconds > 0
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    assert code == 0


async def test_cli_migrate(tmp_path: Path, database_url: str) -> None:
    for _ in range(2):  # idempotent
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tams_server", "migrate", "--data-dir", str(tmp_path),
            "--database-url", database_url, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate()
        assert process.returncode == 0
        assert b"schema is up to date" in out


async def test_graceful_shutdown_finishes_in_flight_rpcs(tmp_path: Path, database_url: str) -> None:
    config = Config(
        grpc_port=0, http_port=0, data_dir=tmp_path, database_url=database_url,
        shutdown_grace_s=30.0,
    )  # fmt: skip
    statuses: list[int] = []
    async with serve(config) as running:
        channel = grpc.aio.insecure_channel(running.grpc_target)
        stub = flows_pb2_grpc.FlowServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest())

        async def follow_health() -> None:
            try:
                async for update in watch:
                    statuses.append(update.status)
            except grpc.aio.AioRpcError as error:  # the stream ends when the server stops
                assert error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)

        watcher = asyncio.create_task(follow_health())
        calls = [
            asyncio.ensure_future(stub.CreateFlow(flows_pb2.CreateFlowRequest(flow=video_flow())))
            for _ in range(100)
        ]
        await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
    # The block has exited: the server stopped, after every call already in flight.
    results = await asyncio.gather(*calls, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    await asyncio.wait_for(watcher, timeout=10)
    await channel.close()
    assert statuses[0] == health_pb2.HealthCheckResponse.SERVING
    assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses
