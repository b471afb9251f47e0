"""The TLS tests' certificates (``helpers.certs``), made once per session, and a
mutual-TLS server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from helpers.certs import Certs, make_certs
from helpers.servers import own_server
from tams_server.app import RunningServer


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA, a server certificate and a client certificate it signed, and an untrusted
    client certificate."""
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
async def mtls_server(
    certs: Certs, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    """A server on TLS that asks clients for a certificate the test CA signed."""
    async with own_server(
        tmp_path_factory.mktemp("mtls"), database_url,
        tls_cert=certs.server.cert, tls_key=certs.server.key, tls_client_ca=certs.ca,
    ) as stubs:  # fmt: skip
        yield stubs.running
