"""The TLS tests' certificates (``helpers.certs``), made once per session."""

from __future__ import annotations

import pytest

from helpers.certs import Certs, make_certs


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA, a server certificate and a client certificate it signed, and an untrusted
    client certificate."""
    return make_certs(tmp_path_factory.mktemp("certs"))
