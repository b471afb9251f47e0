"""``tams-server gateway`` against a TLS gRPC server: ``--grpc-ca`` (and
``--grpc-client-cert``/``--grpc-client-key`` for mutual TLS); the gateway serves
HTTPS itself with ``--tls-cert``/``--tls-key``."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx
import pytest

from helpers.certs import Certs
from helpers.servers import own_server
from tams_server.app import RunningServer, serve_gateway
from tams_server.config.tls import client_tls, server_tls


@pytest.fixture(scope="module")
async def mtls_server(
    certs: Certs, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    async with own_server(
        tmp_path_factory.mktemp("mtls-gateway"), database_url,
        tls_cert=certs.server.cert, tls_key=certs.server.key, tls_client_ca=certs.ca,
    ) as stubs:  # fmt: skip
        yield stubs.running


async def test_the_gateway_calls_a_mutual_tls_server_and_serves_https(
    mtls_server: RunningServer, certs: Certs
) -> None:
    grpc_tls = client_tls(certs.ca, certs.client.cert, certs.client.key)
    tls = server_tls(certs.server.cert, certs.server.key, None)
    async with (
        serve_gateway(mtls_server.grpc_target, "127.0.0.1", 0, grpc_tls=grpc_tls, tls=tls) as url,
        httpx.AsyncClient(verify=ssl.create_default_context(cafile=certs.ca)) as http,
    ):
        assert url.startswith("https://127.0.0.1:")
        response = await http.get(f"{url}/service")
        assert response.status_code == 200, response.text


async def test_the_gateway_without_a_client_certificate_gets_no_answer(
    mtls_server: RunningServer, certs: Certs
) -> None:
    grpc_tls = client_tls(certs.ca, None, None)
    async with (
        serve_gateway(mtls_server.grpc_target, "127.0.0.1", 0, grpc_tls=grpc_tls) as url,
        httpx.AsyncClient(timeout=30) as http,
    ):
        response = await http.get(f"{url}/service")
        assert response.status_code == 503, response.text
