"""TLS material, read and checked once when the server starts: the server's own
(``--tls-cert``, ``--tls-key``, ``--tls-client-ca``) and that of the standalone
gateway as a client of a TLS gRPC server (``--grpc-ca``, ``--grpc-client-cert``,
``--grpc-client-key``).

A missing, unreadable or mismatched file stops the start with a message naming the
flag and the file, rather than failing each handshake later. Messages never quote a
file's contents, and the private key stays out of every repr.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from tams_server.config.errors import ConfigError


@dataclass(frozen=True)
class ServerTls:
    """The server's certificate chain and key, and the CA its clients' certificates
    must be signed by when mutual TLS is on."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None
    certificate_chain: bytes = field(repr=False)
    private_key: bytes = field(repr=False)
    client_ca: bytes | None = field(repr=False)

    @property
    def mutual(self) -> bool:
        """Clients must present a certificate signed by ``client_ca``."""
        return self.client_ca is not None

    def grpc_credentials(self) -> grpc.ServerCredentials:
        """TLS for the gRPC port, requiring a client certificate when mutual."""
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.mutual,
        )


@dataclass(frozen=True)
class ClientTls:
    """What a TLS client of a gRPC server needs: the CA to trust and, for mutual TLS,
    its own certificate chain and key."""

    root_certificates: bytes = field(repr=False)
    certificate_chain: bytes | None = field(default=None, repr=False)
    private_key: bytes | None = field(default=None, repr=False)

    def grpc_credentials(self) -> grpc.ChannelCredentials:
        """Channel credentials trusting only ``root_certificates``."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )


def server_tls(cert: Path | None, key: Path | None, client_ca: Path | None) -> ServerTls | None:
    """The server's TLS material, checked; None when TLS is off (no flag given)."""
    if cert is None and key is None:
        if client_ca is not None:
            raise ConfigError("--tls-client-ca needs --tls-cert and --tls-key (TLS is off)")
        return None
    if cert is None or key is None:
        raise ConfigError("--tls-cert and --tls-key go together: give both or neither")
    chain, private_key = _key_pair("--tls-cert", cert, "--tls-key", key)
    return ServerTls(
        cert_file=cert,
        key_file=key,
        client_ca_file=client_ca,
        certificate_chain=chain,
        private_key=private_key,
        client_ca=None if client_ca is None else _certificates("--tls-client-ca", client_ca),
    )


def client_tls(ca: Path | None, cert: Path | None, key: Path | None) -> ClientTls | None:
    """The gateway's TLS material toward its gRPC server, checked; None when it dials
    in plaintext (no ``--grpc-ca``)."""
    if ca is None:
        if cert is not None or key is not None:
            raise ConfigError("--grpc-client-cert and --grpc-client-key need --grpc-ca")
        return None
    roots = _certificates("--grpc-ca", ca)
    if cert is None and key is None:
        return ClientTls(roots)
    if cert is None or key is None:
        raise ConfigError(
            "--grpc-client-cert and --grpc-client-key go together: give both or neither"
        )
    chain, private_key = _key_pair("--grpc-client-cert", cert, "--grpc-client-key", key)
    return ClientTls(roots, chain, private_key)


def _key_pair(cert_flag: str, cert: Path, key_flag: str, key: Path) -> tuple[bytes, bytes]:
    """The certificate chain and the private key, checked to be PEM and to belong
    together (OpenSSL compares the key with the first certificate)."""
    chain = _certificates(cert_flag, cert)
    private_key = _read(key_flag, key)

    def no_password() -> bytes:
        raise ConfigError(f"{key_flag} {key}: the key is encrypted; give an unencrypted one")

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, key, password=no_password)
    except ssl.SSLError as error:
        if error.reason == "KEY_VALUES_MISMATCH":
            raise ConfigError(f"{key_flag} {key}: not the key of {cert_flag} {cert}") from None
        raise ConfigError(f"{key_flag} {key}: no PEM private key in it") from None
    return chain, private_key


def _certificates(flag: str, path: Path) -> bytes:
    """The PEM certificates in ``path``; ConfigError when there are none."""
    data = _read(flag, path)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(
            cadata=data.decode("ascii", errors="replace")
        )
    except ssl.SSLError:
        raise ConfigError(f"{flag} {path}: no PEM certificate in it") from None
    return data


def _read(flag: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{flag} {path}: cannot read it ({error.strerror})") from None
