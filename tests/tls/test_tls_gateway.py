"""``tams-server gateway`` against a TLS gRPC server: ``--grpc-ca`` (and
``--grpc-client-cert``/``--grpc-client-key`` for mutual TLS); the gateway serves
HTTPS itself with ``--tls-cert``/``--tls-key``."""

from __future__ import annotations

import ssl

import httpx

from helpers.certs import Certs
from tams_server.app import RunningServer, serve_gateway
from tams_server.config.tls import client_tls, server_tls


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
