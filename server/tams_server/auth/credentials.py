"""The ``authorization`` value a caller sends: ``Bearer <token>`` or ``Basic <b64>``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from tams_server.domain.errors import Reason, Unauthenticated

MAX_CREDENTIAL_BYTES = 8 * 1024
"""Longer ``authorization`` values are refused before any parsing or hashing: real
JWTs (even with many groups) stay well below, and a bound keeps a flood of huge
tokens cheap."""


@dataclass(frozen=True)
class Bearer:
    """A bearer token (a JWT or a static API token)."""

    token: str

    def __repr__(self) -> str:
        return "Bearer(<redacted>)"


@dataclass(frozen=True)
class Basic:
    """HTTP Basic: a user name and its password."""

    user: str
    password: str

    def __repr__(self) -> str:
        return f"Basic(user={self.user!r}, password=<redacted>)"


def authorization_of(metadata: Sequence[tuple[str, str | bytes]]) -> str | None:
    """The ``authorization`` value of call metadata, if there is one."""
    for key, value in metadata:
        if key == "authorization":
            return value if isinstance(value, str) else value.decode("latin-1")
    return None


def parse_authorization(value: str) -> Bearer | Basic:
    """The credentials of an ``authorization`` value (RFC 9110 schemes are
    case-insensitive); ``Unauthenticated`` when it is not one of ours or is malformed.
    Messages never quote the value."""
    if len(value) > MAX_CREDENTIAL_BYTES:
        raise Unauthenticated(
            f"credentials are limited to {MAX_CREDENTIAL_BYTES} bytes",
            reason=Reason.CREDENTIALS_MALFORMED,
            metadata={"maxBytes": str(MAX_CREDENTIAL_BYTES)},
        )
    scheme, _, rest = value.strip().partition(" ")
    rest = rest.strip()
    if not rest:
        raise _malformed("expected '<scheme> <credentials>'")
    match scheme.lower():
        case "bearer":
            return Bearer(rest)
        case "basic":
            return _basic(rest)
    raise Unauthenticated(
        "only the Bearer and Basic schemes exist here",
        reason=Reason.CREDENTIALS_SCHEME_UNSUPPORTED,
    )


def _basic(encoded: str) -> Basic:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _malformed("Basic credentials must be base64 of 'user:password'") from None
    user, colon, password = decoded.partition(":")
    if not colon or not user:
        raise _malformed("Basic credentials must be base64 of 'user:password'")
    return Basic(user, password)


def _malformed(message: str) -> Unauthenticated:
    return Unauthenticated(message, reason=Reason.CREDENTIALS_MALFORMED)
