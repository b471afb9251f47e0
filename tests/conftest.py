"""Session fixtures: the real server, started in-process with the production wiring
(``tams_server.app.serve``) on a free port, once per database engine.

Every test that uses ``running`` (or anything built on it) runs on SQLite and on
PostgreSQL. PostgreSQL comes from ``TAMS_TEST_DATABASE_URL`` (``scripts/test.sh``
provides one, starting a throwaway cluster when none is reachable). Under CI a missing
PostgreSQL fails the run instead of skipping half the suite.

Beside it, what tests in more than one folder need: an S3 endpoint and Chromium.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import grpc
import pytest
from botocore.config import Config as BotoConfig
from hypothesis import settings

from helpers.objects import new_flow
from helpers.servers import own_server
from tams.v1 import flows_pb2_grpc, segments_pb2_grpc, service_info_pb2_grpc, sources_pb2_grpc
from tams_server.app import RunningServer, serve
from tams_server.config import Config

# Hypothesis runs without per-example deadlines: on a shared 2-core machine a slow
# example says nothing about the code under test, and would make the suite flaky.
settings.register_profile("tams", deadline=None)
settings.load_profile("tams")

ENGINES = ("sqlite", "postgresql")
S3_REGION = "eu-west-2"


def postgresql_url() -> str:
    """The test PostgreSQL, or a skip (a failure under CI) when there is none."""
    url = os.environ.get("TAMS_TEST_DATABASE_URL")
    if url:
        return url
    message = "no PostgreSQL: set TAMS_TEST_DATABASE_URL or run scripts/test.sh"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI never skips PostgreSQL)")
    pytest.skip(message)


@pytest.fixture(scope="session", params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database URL per engine."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'tams.db'}"
    return postgresql_url()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's data folder."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
async def running(database_url: str, data_dir: Path) -> AsyncIterator[RunningServer]:
    """The server, on free ports."""
    # No background worker here: test_deletions runs its own servers with workers, and
    # one in this long-lived server could take their delete requests from under them.
    config = Config(
        grpc_port=0, http_port=0, data_dir=data_dir, database_url=database_url,
        shutdown_grace_s=2.0, run_workers=False,
    )  # fmt: skip
    async with serve(config) as server:
        yield server


@pytest.fixture(scope="session")
def grpc_target(running: RunningServer) -> str:
    """``host:port`` of the running server."""
    return running.grpc_target


@pytest.fixture(scope="session")
async def channel(grpc_target: str) -> AsyncIterator[grpc.aio.Channel]:
    """One channel to the server for the session."""
    async with grpc.aio.insecure_channel(grpc_target) as chan:
        yield chan


@pytest.fixture(scope="session")
def flows(channel: grpc.aio.Channel) -> flows_pb2_grpc.FlowServiceStub:
    """FlowService stub."""
    return flows_pb2_grpc.FlowServiceStub(channel)


@pytest.fixture(scope="session")
def sources(channel: grpc.aio.Channel) -> sources_pb2_grpc.SourceServiceStub:
    """SourceService stub."""
    return sources_pb2_grpc.SourceServiceStub(channel)


@pytest.fixture(scope="session")
def service_info(channel: grpc.aio.Channel) -> service_info_pb2_grpc.ServiceInfoServiceStub:
    """ServiceInfoService stub."""
    return service_info_pb2_grpc.ServiceInfoServiceStub(channel)


@pytest.fixture(scope="session")
def segments(channel: grpc.aio.Channel) -> segments_pb2_grpc.SegmentServiceStub:
    """SegmentService stub."""
    return segments_pb2_grpc.SegmentServiceStub(channel)


@pytest.fixture
async def flow_id(flows: flows_pb2_grpc.FlowServiceStub) -> str:
    """A new video Flow (container video/mp2t) for this test."""
    return await new_flow(flows)


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium, or a skip where it is missing (a failure under CI, which installs it)."""
    path = shutil.which("chromium")
    if path is None:
        message = "no chromium: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (.ci/run installs it; CI never skips this)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible endpoint over HTTP: moto's standalone server on a free
    loopback port (no patched boto calls)."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_backend(s3_endpoint: str) -> str:
    """The storage setting of a new, empty bucket on ``s3_endpoint`` (region
    ``S3_REGION``, access key ``k``, secret ``s``)."""
    bucket = f"media-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name=S3_REGION, aws_access_key_id="k",
        aws_secret_access_key="s",
        config=BotoConfig(signature_version="s3v4", s3={"addressing_style": "path"}),
    )  # fmt: skip
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    return f"s3://{bucket}?endpoint={s3_endpoint}&region={S3_REGION}&access_key=k&secret_key=s"


@pytest.fixture
async def two_backends(
    tmp_path: Path, database_url: str, s3_backend: str
) -> AsyncIterator[RunningServer]:
    """A server whose default backend is an S3 bucket (tagged tier=hot), with the local
    backend (tier=cold) beside it."""
    storage = (f"{s3_backend}&label=cloud&tag.tier=hot", "local:?tag.tier=cold")
    async with own_server(tmp_path, database_url, run_workers=False, storage=storage) as stubs:
        yield stubs.running
