"""The keys bearer JWTs may be signed with, each pinned to one algorithm by its kind:
an HMAC secret verifies only HS256, an RSA key only RS256, an EC key only the ES
algorithm of its curve. A token never chooses how it is checked, so ``alg: none`` and
the public-key-as-HMAC-secret confusion have nothing to match."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

MIN_SECRET_BYTES = 32
"""RFC 7518 3.2: an HS256 key must be at least as long as the hash (256 bits)."""

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class AuthSetupError(ValueError):
    """Authentication is configured wrongly; the server refuses to start. The message
    names the file and line, never a secret."""


@dataclass(frozen=True)
class TrustedKey:
    """One key, the one algorithm it verifies and, from a JWKS, its key id."""

    key: Any = field(repr=False)
    algorithm: str
    kid: str | None = None

    def matches(self, algorithm: object, kid: object) -> bool:
        """Whether a token whose header names ``algorithm`` and ``kid`` is for it."""
        return algorithm == self.algorithm and (self.kid is None or kid in (None, self.kid))


def secret_key(secret: str) -> TrustedKey:
    """An HS256 shared secret."""
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise AuthSetupError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes long")
    return TrustedKey(secret.encode(), "HS256")


def public_key(path: Path) -> TrustedKey:
    """A PEM public key: RSA (RS256), EC (ES256/384/512 by curve) or Ed25519 (EdDSA)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise AuthSetupError(f"{path}: not a readable PEM public key ({error})") from None
    return TrustedKey(key, _algorithm_of(key, path))


def _algorithm_of(key: object, path: Path) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGORITHMS:
        return _EC_ALGORITHMS[key.curve.name]
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise AuthSetupError(f"{path}: use an RSA, EC (P-256/384/521) or Ed25519 public key")


def jwks_keys(path: Path) -> list[TrustedKey]:
    """The public keys of a JWKS file (``{"keys": [...]}``), each with its ``alg`` (or
    the one its type implies) and ``kid``. Symmetric (``oct``) keys are refused: a key
    set is published, so a secret in it is no secret."""
    try:
        keys = jwt.PyJWKSet.from_json(path.read_text()).keys
    except (OSError, ValueError, jwt.PyJWKSetError, jwt.PyJWKError) as error:
        raise AuthSetupError(f"{path}: not a usable JWKS ({error})") from None
    trusted = []
    for jwk in keys:
        if jwk.key_type == "oct":
            raise AuthSetupError(f"{path}: key {jwk.key_id!r} is symmetric (oct); not trusted")
        trusted.append(TrustedKey(jwk.key, jwk.algorithm_name, jwk.key_id))
    if not trusted:
        raise AuthSetupError(f"{path}: the key set has no key")
    return trusted
