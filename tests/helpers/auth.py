"""Credentials for tests: real tokens signed with PyJWT, real keys made with
``cryptography``, files of static tokens and Basic users."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from helpers.servers import Stubs, own_server
from tams_server.auth.basic_users import hash_password

SECRET = "a-test-secret-of-at-least-thirty-two-bytes"
ISSUER = "https://issuer.test"
AUDIENCE = "tams-test"
STATIC_TOKEN = "static-api-token-for-the-ingest-robot"
BASIC_USER, BASIC_PASSWORD = "editor", "correct horse battery staple"
ALL_SCOPES = "tams-api/read tams-api/write tams-api/delete"


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for the secret server (issuer and audience set), with overrides;
    a None override removes the claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice", "scope": ALL_SCOPES, "iss": ISSUER, "aud": AUDIENCE,
        "iat": now, "nbf": now, "exp": now + 6 * 3600,  # outlives a slow run of the suite
    }  # fmt: skip
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def hs256(secret: str = SECRET, **overrides: Any) -> str:
    """An HS256 token."""
    return jwt.encode(claims(**overrides), secret, algorithm="HS256")


OTHER_SECRET = "another-secret-of-at-least-thirty-two-bytes"

# Each kind of token a server with SECRET, ISSUER and AUDIENCE refuses although it is a
# well-formed JWT, and the reason it gives: made when called (times are relative to now).
BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "expired": (lambda: hs256(exp=int(time.time()) - 60), "TOKEN_EXPIRED"),
    "not-yet-valid": (lambda: hs256(nbf=int(time.time()) + 600), "TOKEN_NOT_YET_VALID"),
    "wrong-signature": (lambda: hs256(OTHER_SECRET), "TOKEN_INVALID"),
    "wrong-issuer": (lambda: hs256(iss="https://elsewhere.test"), "TOKEN_ISSUER_MISMATCH"),
    "wrong-audience": (lambda: hs256(aud="another-service"), "TOKEN_AUDIENCE_MISMATCH"),
}


Bearer = tuple[tuple[str, str]]
"""gRPC metadata carrying a token."""


def bearer(token: str) -> Bearer:
    """gRPC metadata carrying ``token``."""
    return (("authorization", f"Bearer {token}"),)


def news_class(folder: Path) -> tuple[dict[str, Any], Bearer, Bearer]:
    """For tests of what auth classes let through: the Config settings of a server taking
    HS256 tokens, with an auth classes file (written in ``folder``) that lets the group
    news read the class news; the metadata of an admin and of Nina, of the news group
    (both with read and write)."""
    (folder / "classes").write_text("news news read\n")
    scopes = "tams-api/read tams-api/write"
    settings = {
        "jwt_secret": SECRET, "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE,
        "auth_classes_file": folder / "classes",
    }  # fmt: skip
    admin = bearer(hs256(sub="admin", scope=scopes))
    return settings, admin, bearer(hs256(sub="nina", scope=scopes, groups=["news"]))


def basic(user: str, password: str) -> str:
    """An ``Authorization: Basic`` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# Each kind of credential other than a JWT that a secret_server refuses, as an
# Authorization value, with the reason: a static API token it does not know (refused
# by the tokens file, then by the JWT verifier), a wrong password of a Basic user.
BAD_CREDENTIALS: dict[str, tuple[str, str]] = {
    "wrong-static-token": (f"Bearer {STATIC_TOKEN}-not", "TOKEN_INVALID"),
    "wrong-basic-password": (
        basic(BASIC_USER, f"not {BASIC_PASSWORD}"),
        "BASIC_CREDENTIALS_INVALID",
    ),
}


def cheap_hash(password: str) -> str:
    """A real Argon2id hash with the lowest costs Argon2 allows, verified in well under
    a millisecond (the server verifies with the parameters a hash carries): for the
    tables that send a wrong password on every RPC and route, which would otherwise
    spend the deliberate tens of milliseconds of ``hash_password`` on each."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)


def unsigned(**overrides: Any) -> str:
    """A token with ``alg: none`` and no signature."""
    return jwt.encode(claims(**overrides), None, algorithm="none")


def hmac_signed_with(key: bytes, **overrides: Any) -> str:
    """An HS256 token whose HMAC key is ``key`` (say, a public key PEM), made by hand:
    PyJWT itself refuses to use a PEM as an HMAC secret."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = part(json.dumps(claims(**overrides)).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{part(signature)}"


@dataclass(frozen=True)
class KeyFiles:
    """An RSA key pair (its public PEM written out) and an EC P-256 key pair (its
    public half in a JWKS file, with kid ``ec-1``)."""

    rsa_key: rsa.RSAPrivateKey
    rsa_public_pem: Path
    ec_key: ec.EllipticCurvePrivateKey
    jwks: Path


def key_files(folder: Path) -> KeyFiles:
    """New keys, with their public files in ``folder``."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = folder / "rsa-public.pem"
    pem.write_bytes(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    jwks = folder / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "ec-1", "use": "sig"}]}))
    return KeyFiles(rsa_key, pem, ec_key, jwks)


def credential_files(
    folder: Path, *, hash_of: Callable[[str], str] = hash_password
) -> tuple[Path, Path]:
    """A tokens file knowing STATIC_TOKEN (subject ``robot``, read and write) and a
    users file knowing BASIC_USER (read only), its password hashed by ``hash_of``."""
    tokens = folder / "tokens.txt"
    digest = hashlib.sha256(STATIC_TOKEN.encode()).hexdigest()
    tokens.write_text(f"# the ingest robot\n\n{digest} robot tams-api/read tams-api/write\n")
    users = folder / "users.txt"
    users.write_text(f"# editors\n{BASIC_USER} {hash_of(BASIC_PASSWORD)} tams-api/read\n")
    return tokens, users


@asynccontextmanager
async def secret_server(
    folder: Path,
    database_url: str,
    *,
    hash_of: Callable[[str], str] = hash_password,
    **settings: Any,
) -> AsyncIterator[Stubs]:
    """A server taking HS256 tokens (SECRET, ISSUER, AUDIENCE), STATIC_TOKEN and
    BASIC_USER (its password hashed by ``hash_of``), with the other Config
    ``settings`` given."""
    tokens, users = credential_files(folder, hash_of=hash_of)
    async with own_server(
        folder / "data", database_url, jwt_secret=SECRET, jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE, tokens_file=tokens, basic_users_file=users, **settings,
    ) as stubs:  # fmt: skip
        yield stubs


@asynccontextmanager
async def key_server(folder: Path, database_url: str, keys: KeyFiles) -> AsyncIterator[Stubs]:
    """A server taking RS256 tokens of ``keys.rsa_key`` and ES256 tokens of its JWKS,
    and nothing else (no secret, no Basic)."""
    async with own_server(
        folder / "data", database_url, jwt_public_key=keys.rsa_public_pem, jwks_file=keys.jwks
    ) as stubs:
        yield stubs
