"""Start-up and graceful shutdown: the CLI serves, SIGTERM stops it cleanly; health
turns NOT_SERVING before the server stops, and in-flight RPCs finish."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from conftest import postgresql_url
from helpers.factories import video_flow
from tams.v1 import flows_pb2, flows_pb2_grpc
from tams_server.app import serve
from tams_server.config import Config

IN_FLIGHT = 8


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


async def test_graceful_shutdown_finishes_in_flight_rpcs(tmp_path: Path) -> None:
    """Calls blocked inside their handlers when shutdown starts still complete.

    To hold calls in flight deterministically, a second connection locks the sources
    table on PostgreSQL; the calls' inserts wait on it until the shutdown has begun.
    (Shutdown is the gRPC server's, whatever the engine, so one engine suffices.)
    """
    url = postgresql_url()
    config = Config(grpc_port=0, http_port=0, data_dir=tmp_path, database_url=url,
                    shutdown_grace_s=30.0)  # fmt: skip
    locker_engine = create_async_engine(url)
    stack = AsyncExitStack()
    running = await stack.enter_async_context(serve(config))
    channel = grpc.aio.insecure_channel(running.grpc_target)
    stub = flows_pb2_grpc.FlowServiceStub(channel)
    statuses: list[int] = []
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
    async for update in watch:  # the first update is the current status
        statuses.append(update.status)
        break
    async with locker_engine.connect() as locker:
        await locker.execute(text("LOCK TABLE sources IN EXCLUSIVE MODE"))
        calls = [
            asyncio.ensure_future(stub.CreateFlow(flows_pb2.CreateFlowRequest(flow=video_flow())))
            for _ in range(IN_FLIGHT)
        ]
        # The database is the only witness that the calls wait inside their handlers.
        while await _lock_waiters(locker) < IN_FLIGHT:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        shutdown = asyncio.create_task(stack.aclose())
        async for update in watch:
            statuses.append(update.status)
            break
        watch.cancel()  # an open stream would hold the server for the whole grace period
        await locker.rollback()  # releases the lock: the blocked calls go on
    await shutdown
    results = await asyncio.gather(*calls, return_exceptions=True)
    await channel.close()
    await locker_engine.dispose()
    assert [type(r) for r in results] == [flows_pb2.CreateFlowResponse] * IN_FLIGHT
    assert statuses == [
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    ]


async def _lock_waiters(conn: AsyncConnection) -> int:
    count = await conn.scalar(
        text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'sources'::regclass")
    )
    return int(count or 0)
