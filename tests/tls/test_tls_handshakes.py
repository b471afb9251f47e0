"""TLS on both listeners (``--tls-cert``/``--tls-key``), and mutual TLS
(``--tls-client-ca``): a real server, real certificates, real handshakes. The REST
calls go through the in-process gateway, so they also show that its private channel
to the gRPC server works whatever the public port requires."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from helpers.certs import Certs, Pair
from helpers.servers import own_server
from tams.v1 import service_info_pb2, service_info_pb2_grpc
from tams_client import AsyncTamsClient, TamsClient
from tams_server.app import RunningServer


@pytest.fixture(scope="module")
async def tls_server(
    certs: Certs, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    async with own_server(
        tmp_path_factory.mktemp("tls"), database_url,
        tls_cert=certs.server.cert, tls_key=certs.server.key,
    ) as stubs:  # fmt: skip
        yield stubs.running


async def get_service(target: str, credentials: grpc.ChannelCredentials | None) -> str:
    """The service's type, over a fresh channel (secure with ``credentials``)."""
    channel = (
        grpc.aio.insecure_channel(target)
        if credentials is None
        else grpc.aio.secure_channel(target, credentials)
    )
    async with channel:
        stub = service_info_pb2_grpc.ServiceInfoServiceStub(channel)
        response = await stub.GetService(service_info_pb2.GetServiceRequest(), timeout=5)
        return response.service.type


def https_context(
    certs: Certs, client: Pair | None = None, ca: Path | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca or certs.ca)
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    return context


async def get_rest_service(url: str, verify: ssl.SSLContext | bool = True) -> httpx.Response:
    async with httpx.AsyncClient(verify=verify, timeout=5) as http:
        return await http.get(f"{url}/service")


# TLS


async def test_grpc_serves_tls_to_a_client_trusting_the_ca(
    tls_server: RunningServer, certs: Certs
) -> None:
    assert await get_service(tls_server.grpc_target, certs.channel_credentials())
    async with grpc.aio.secure_channel(tls_server.grpc_target, certs.channel_credentials()) as ch:
        health = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_plaintext_grpc_client_is_refused(tls_server: RunningServer) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await get_service(tls_server.grpc_target, None)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_client_trusting_another_ca_refuses_the_server(
    tls_server: RunningServer, certs: Certs
) -> None:
    other = grpc.ssl_channel_credentials(root_certificates=certs.other_ca.read_bytes())
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await get_service(tls_server.grpc_target, other)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_both_clients_take_channel_credentials(
    tls_server: RunningServer, certs: Certs
) -> None:
    async with AsyncTamsClient(
        tls_server.grpc_target, credentials=certs.channel_credentials()
    ) as client:
        assert (await client.get_service()).type

    def blocking() -> str:  # the blocking client, off the event loop the server runs on
        with TamsClient(tls_server.grpc_target, credentials=certs.channel_credentials()) as sync:
            return sync.get_service().type

    assert await asyncio.to_thread(blocking)


async def test_https_serves_the_rest_api(tls_server: RunningServer, certs: Certs) -> None:
    assert tls_server.http_url.startswith("https://127.0.0.1:")
    response = await get_rest_service(tls_server.http_url, https_context(certs))
    assert response.status_code == 200, response.text
    assert response.json()["type"]


async def test_plain_http_is_refused(tls_server: RunningServer, certs: Certs) -> None:
    plain = tls_server.http_url.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        await get_rest_service(plain)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await get_rest_service(tls_server.http_url, https_context(certs, ca=certs.other_ca))


# Mutual TLS


async def test_grpc_mtls_accepts_a_certificate_the_client_ca_signed(
    mtls_server: RunningServer, certs: Certs
) -> None:
    credentials = certs.channel_credentials(certs.client)
    assert await get_service(mtls_server.grpc_target, credentials)


@pytest.mark.parametrize("client", ["none", "untrusted"])
async def test_grpc_mtls_refuses_other_clients(
    mtls_server: RunningServer, certs: Certs, client: str
) -> None:
    credentials = certs.channel_credentials(None if client == "none" else certs.untrusted_client)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await get_service(mtls_server.grpc_target, credentials)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_https_mtls_accepts_a_certificate_the_client_ca_signed(
    mtls_server: RunningServer, certs: Certs
) -> None:
    response = await get_rest_service(mtls_server.http_url, https_context(certs, certs.client))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("client", ["none", "untrusted"])
async def test_https_mtls_refuses_other_clients(
    mtls_server: RunningServer, certs: Certs, client: str
) -> None:
    context = https_context(certs, None if client == "none" else certs.untrusted_client)
    with pytest.raises(httpx.TransportError):
        await get_rest_service(mtls_server.http_url, context)
