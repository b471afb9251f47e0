"""Secure by default: without authentication the server binds loopback only, unless
the operator says ``--allow-anonymous``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from helpers.auth import SECRET
from helpers.servers import own_server
from tams_server.auth.keys import AuthSetupError
from tams_server.config.auth import is_loopback


async def test_anonymous_beyond_loopback_refuses_to_start(
    tmp_path: Path, database_url: str
) -> None:
    with pytest.raises(AuthSetupError, match="--allow-anonymous") as refused:
        async with own_server(tmp_path, database_url, grpc_host="0.0.0.0"):
            pass
    assert "0.0.0.0" in str(refused.value)


async def test_allow_anonymous_starts_with_a_warning(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tams_server"):
        async with own_server(
            tmp_path, database_url, http_host="0.0.0.0", allow_anonymous=True
        ) as stubs:
            assert stubs.running.http_url
    assert "ANONYMOUS ACCESS on 0.0.0.0" in caplog.text


async def test_authenticated_servers_bind_anywhere(tmp_path: Path, database_url: str) -> None:
    async with own_server(
        tmp_path, database_url, grpc_host="0.0.0.0", http_host="0.0.0.0", jwt_secret=SECRET
    ) as stubs:
        assert stubs.running.grpc_target.startswith("0.0.0.0:")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.1", False),
     ("tams.example", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
