"""Authentication's setup and cache: the files (bad lines refuse to start, naming the
line and never the secret), the keys, the verified-credentials cache, the flags."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpers.auth import SECRET, bearer, hs256
from tams_server.auth.authenticator import CredentialAuthenticator
from tams_server.auth.basic_users import BasicUsers
from tams_server.auth.cache import VerifiedCache
from tams_server.auth.jwt_verifier import LEEWAY_S, JwtVerifier
from tams_server.auth.keys import AuthSetupError, public_key, secret_key
from tams_server.auth.static_tokens import StaticTokens
from tams_server.cli import build_parser, config_from_args, main
from tams_server.domain.principal import Principal

DIGEST = hashlib.sha256(b"t").hexdigest()


def _authenticator() -> CredentialAuthenticator:
    verifier = JwtVerifier([secret_key(SECRET)], issuer=None, audience=None, groups_claim="groups")
    return CredentialAuthenticator(jwts=verifier)


async def test_a_second_call_with_the_same_token_is_not_verified_again() -> None:
    authenticator = _authenticator()
    token = hs256(iss=None, aud=None, groups=["news"], scp=["tams-api/admin"])
    first = await authenticator.authenticate(bearer(token))
    second = await authenticator.authenticate(bearer(token))
    assert (
        first
        == second
        == Principal(
            "alice",
            frozenset({"tams-api/read", "tams-api/write", "tams-api/delete", "tams-api/admin"}),
            ("news",),
        )
    )
    assert (authenticator.cache.misses, authenticator.cache.hits) == (1, 1)


async def test_a_cached_token_is_verified_again_once_it_expires() -> None:
    """The entry ends with the token; the verifier (with its leeway) then decides."""
    authenticator = _authenticator()
    token = hs256(iss=None, aud=None, exp=int(time.time()) + 1)
    await authenticator.authenticate(bearer(token))
    await asyncio.sleep(1.5)
    await authenticator.authenticate(bearer(token))  # accepted within LEEWAY_S
    assert LEEWAY_S > 1
    assert (authenticator.cache.misses, authenticator.cache.hits) == (2, 0)


def test_the_cache_is_bounded_and_keeps_the_recently_used() -> None:
    cache = VerifiedCache(max_entries=2)
    for name in ("a", "b"):
        cache.put(VerifiedCache.key(name), Principal(name), expires_at=None)
    assert cache.get(VerifiedCache.key("a")) == Principal("a")
    cache.put(VerifiedCache.key("c"), Principal("c"), expires_at=None)
    assert len(cache) == 2
    assert cache.get(VerifiedCache.key("b")) is None
    assert cache.get(VerifiedCache.key("a")) == Principal("a")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# ok\n\nsecret-in-clear robot tams-api/read\n", "line 3: the first field must be"),
        (f"{DIGEST}\n", "line 1: expected '<sha256 hex> <subject> [scope ...]'"),
        (f"{DIGEST} a\n{DIGEST.upper()} b\n", "line 2: this token hash is listed twice"),
    ],
)
def test_a_bad_tokens_file_names_its_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text(text)
    with pytest.raises(AuthSetupError, match=re.escape(problem)) as refused:
        StaticTokens.load(path)
    assert "secret-in-clear" not in str(refused.value)


def test_a_bad_users_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "users.txt"
    path.write_text("editor plain-password tams-api/read\n")
    with pytest.raises(AuthSetupError, match="line 1: the password hash is not an Argon2 hash"):
        BasicUsers.load(path)


def test_keys_are_pinned_to_their_algorithm(tmp_path: Path) -> None:
    pem = tmp_path / "ec.pem"
    pem.write_bytes(
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert public_key(pem).algorithm == "ES384"
    pem.write_text("not a key")
    with pytest.raises(AuthSetupError, match="not a readable PEM public key"):
        public_key(pem)
    with pytest.raises(AuthSetupError, match="at least 32 bytes"):
        secret_key("short")


def test_every_flag_reads_its_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAMS_JWT_SECRET", SECRET)
    monkeypatch.setenv("TAMS_TOKENS_FILE", str(tmp_path / "tokens.txt"))
    monkeypatch.setenv("TAMS_ALLOW_ANONYMOUS", "true")
    monkeypatch.setenv("TAMS_GROUPS_CLAIM", "roles")
    config = config_from_args(build_parser().parse_args(["serve"]))
    assert config.jwt_secret == SECRET
    assert config.tokens_file == tmp_path / "tokens.txt"
    assert config.allow_anonymous
    assert config.groups_claim == "roles"
    assert SECRET not in repr(config)
    flagged = config_from_args(build_parser().parse_args(["serve", "--allow-anonymous", "false"]))
    assert not flagged.allow_anonymous


def test_a_bad_tokens_file_stops_the_server_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text("robot\n")
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--data-dir", str(tmp_path), "--tokens-file", str(path)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        f"tams-server: error: {path}, line 1: expected '<sha256 hex> <subject> [scope ...]'\n"
    )
