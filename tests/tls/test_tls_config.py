"""Configurations the server cannot run with stop it before anything opens, with a
message naming the flag and the file and never quoting a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpers.certs import Certs
from tams_server.app import serve
from tams_server.cli import build_parser, config_from_args, main
from tams_server.config import Config
from tams_server.config.errors import ConfigError
from tams_server.config.public_url import checked_public_url
from tams_server.config.tls import client_tls


async def refusal(tmp_path: Path, **settings: object) -> str:
    """The message serve() refuses ``settings`` with; nothing is created meanwhile."""
    data_dir = tmp_path / "data"
    with pytest.raises(ConfigError) as refused:
        async with serve(Config(data_dir=data_dir, grpc_port=0, http_port=0, **settings)):  # type: ignore[arg-type]
            pass
    assert not data_dir.exists()
    message = str(refused.value)
    assert "PRIVATE KEY" not in message
    assert "BEGIN" not in message
    return message


async def test_a_certificate_without_a_key_is_refused(tmp_path: Path, certs: Certs) -> None:
    message = await refusal(tmp_path, tls_cert=certs.server.cert)
    assert message == "--tls-cert and --tls-key go together: give both or neither"
    assert "go together" in await refusal(tmp_path, tls_key=certs.server.key)


async def test_a_client_ca_without_a_certificate_is_refused(tmp_path: Path, certs: Certs) -> None:
    message = await refusal(tmp_path, tls_client_ca=certs.ca)
    assert message == "--tls-client-ca needs --tls-cert and --tls-key (TLS is off)"


async def test_unreadable_files_are_named(tmp_path: Path, certs: Certs) -> None:
    missing = tmp_path / "missing.pem"
    pair = {"tls_cert": certs.server.cert, "tls_key": certs.server.key}
    assert await refusal(tmp_path, tls_cert=missing, tls_key=certs.server.key) == (
        f"--tls-cert {missing}: cannot read it (No such file or directory)"
    )
    assert await refusal(tmp_path, tls_cert=certs.server.cert, tls_key=missing) == (
        f"--tls-key {missing}: cannot read it (No such file or directory)"
    )
    assert await refusal(tmp_path, **pair, tls_client_ca=tmp_path) == (
        f"--tls-client-ca {tmp_path}: cannot read it (Is a directory)"
    )


async def test_files_of_the_wrong_kind_are_named(tmp_path: Path, certs: Certs) -> None:
    server = certs.server
    assert await refusal(tmp_path, tls_cert=server.key, tls_key=server.key) == (
        f"--tls-cert {server.key}: no PEM certificate in it"
    )
    assert await refusal(tmp_path, tls_cert=server.cert, tls_key=server.cert) == (
        f"--tls-key {server.cert}: no PEM private key in it"
    )
    message = await refusal(
        tmp_path, tls_cert=server.cert, tls_key=server.key, tls_client_ca=certs.client.key
    )
    assert message == f"--tls-client-ca {certs.client.key}: no PEM certificate in it"


async def test_a_key_of_another_certificate_is_refused(tmp_path: Path, certs: Certs) -> None:
    message = await refusal(tmp_path, tls_cert=certs.server.cert, tls_key=certs.client.key)
    assert message == (
        f"--tls-key {certs.client.key}: not the key of --tls-cert {certs.server.cert}"
    )


async def test_an_encrypted_key_is_refused(tmp_path: Path, certs: Certs) -> None:
    key = serialization.load_pem_private_key(certs.server.key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    message = await refusal(tmp_path, tls_cert=certs.server.cert, tls_key=encrypted)
    assert message == f"--tls-key {encrypted}: the key is encrypted; give an unencrypted one"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://media.example", "the scheme must be http or https"),
        ("media.example:8000", "the scheme must be http or https"),
        ("https://", "no host"),
        ("https://media.example:port", "the port is not a number 0-65535"),
        ("https://media.example:70000", "the port is not a number 0-65535"),
        ("https://media.example/tams?x=1", "a query or fragment is not allowed"),
        ("https://media.example/#top", "a query or fragment is not allowed"),
    ],
)
async def test_a_bad_public_url_is_refused(tmp_path: Path, url: str, why: str) -> None:
    assert await refusal(tmp_path, public_url=url) == f"--public-url {url!r}: {why}"


async def test_a_public_url_with_a_password_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    message = await refusal(tmp_path, public_url="https://user:hunter2@media.example")
    assert message == "--public-url: user information (user:password@) is not allowed"


def test_a_good_public_url_loses_its_trailing_slash() -> None:
    assert checked_public_url("https://media.example/tams/") == "https://media.example/tams"
    assert checked_public_url("http://[::1]:8000") == "http://[::1]:8000"
    assert checked_public_url(None) is None


def test_the_gateways_grpc_tls_flags_are_checked(certs: Certs) -> None:
    client = certs.client
    with pytest.raises(ConfigError, match="--grpc-client-cert and --grpc-client-key need"):
        client_tls(None, client.cert, client.key)
    with pytest.raises(ConfigError, match="go together: give both or neither"):
        client_tls(certs.ca, client.cert, None)
    with pytest.raises(ConfigError, match=f"--grpc-client-key {certs.server.key}: not the key"):
        client_tls(certs.ca, client.cert, certs.server.key)
    with pytest.raises(ConfigError, match=f"--grpc-ca {client.key}: no PEM certificate"):
        client_tls(client.key, None, None)
    assert client_tls(None, None, None) is None


def test_the_command_line_exits_with_the_reason(
    tmp_path: Path, certs: Certs, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data-dir", str(tmp_path / "data"), "--tls-cert", str(certs.server.cert)]
    with pytest.raises(SystemExit) as exited:
        main(["serve", *args])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "tams-server: error: --tls-cert and --tls-key go together: give both or neither\n"
    )
    with pytest.raises(SystemExit):
        main(["gateway", "--grpc-client-cert", str(certs.client.cert)])
    assert "--grpc-client-cert and --grpc-client-key need --grpc-ca" in capsys.readouterr().err


def test_the_flags_read_their_environment_variables(
    certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAMS_TLS_CERT", str(certs.server.cert))
    monkeypatch.setenv("TAMS_TLS_KEY", str(certs.server.key))
    monkeypatch.setenv("TAMS_TLS_CLIENT_CA", str(certs.ca))
    monkeypatch.setenv("TAMS_PUBLIC_URL", "https://media.example")
    config = config_from_args(build_parser().parse_args(["serve"]))
    assert (config.tls_cert, config.tls_key, config.tls_client_ca, config.public_url) == (
        certs.server.cert, certs.server.key, certs.ca, "https://media.example",
    )  # fmt: skip
