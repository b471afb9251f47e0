"""``tams-server token``: HS256 tokens for operators and tests, verifiable by a server
run with the same ``--jwt-secret``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import jwt

from tams_server.auth.keys import secret_key


def mint_token(
    secret: str,
    *,
    subject: str,
    scopes: Sequence[str],
    ttl_s: int,
    groups: Sequence[str] | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """A signed token for ``subject`` with ``scopes`` (the OAuth2 ``scope`` claim),
    valid from now for ``ttl_s`` seconds."""
    key = secret_key(secret)
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        "scope": " ".join(scopes),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    if groups is not None:
        claims["groups"] = list(groups)
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, key.key, algorithm=key.algorithm)
