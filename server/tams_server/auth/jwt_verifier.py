"""Bearer JWTs: signature, expiry and not-before always checked, issuer and audience
when configured; each failure has its own reason."""

from __future__ import annotations

from collections.abc import Sequence

import jwt

from tams_server.auth.claims import principal_from_claims
from tams_server.auth.keys import TrustedKey
from tams_server.domain.errors import Reason, Unauthenticated
from tams_server.domain.principal import Principal

LEEWAY_S = 10
"""Clock skew tolerated on ``exp`` and ``nbf``."""


class JwtVerifier:
    """Verifies tokens against trusted keys; the token's header only selects among
    them (by ``alg`` and ``kid``), it never widens what is accepted."""

    def __init__(
        self,
        keys: Sequence[TrustedKey],
        *,
        issuer: str | None,
        audience: str | None,
        groups_claim: str,
    ) -> None:
        self._keys = tuple(keys)
        self._issuer = issuer
        self._audience = audience
        self._groups_claim = groups_claim

    def verify(self, token: str) -> tuple[Principal, float]:
        """The token's principal and expiry (POSIX time), or ``Unauthenticated``."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid("the bearer token is neither a JWT nor a known API token") from None
        candidates = [k for k in self._keys if k.matches(header.get("alg"), header.get("kid"))]
        if not candidates:
            raise _invalid("the token's algorithm or key id is not one this service trusts")
        for key in candidates[:-1]:
            try:
                return self._decode(token, key)
            except Unauthenticated as error:
                if error.reason != Reason.TOKEN_INVALID:
                    raise
        return self._decode(token, candidates[-1])

    def _decode(self, token: str, key: TrustedKey) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_S,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as error:
            raise _unauthenticated(error) from None
        principal = principal_from_claims(claims, groups_claim=self._groups_claim)
        return principal, float(claims["exp"])


def _unauthenticated(error: jwt.PyJWTError) -> Unauthenticated:
    """The reason and message of a PyJWT failure."""
    match error:
        case jwt.ExpiredSignatureError():
            return Unauthenticated("the token has expired", reason=Reason.TOKEN_EXPIRED)
        case jwt.ImmatureSignatureError():
            return Unauthenticated("the token is not valid yet", reason=Reason.TOKEN_NOT_YET_VALID)
        case jwt.InvalidIssuerError() | jwt.MissingRequiredClaimError(claim="iss"):
            return Unauthenticated(
                "the token is not from the expected issuer", reason=Reason.TOKEN_ISSUER_MISMATCH
            )
        case jwt.InvalidAudienceError() | jwt.MissingRequiredClaimError(claim="aud"):
            return Unauthenticated(
                "the token is not meant for this service", reason=Reason.TOKEN_AUDIENCE_MISMATCH
            )
        case jwt.MissingRequiredClaimError(claim=claim):
            return _invalid(f"the token has no {claim!r} claim")
        case jwt.InvalidSignatureError():
            return _invalid("the token's signature does not verify")
    # Other messages are PyJWT's own; only the failure's kind is named, so nothing of
    # the token can ever be echoed.
    return _invalid(f"the token is not valid ({type(error).__name__})")


def _invalid(message: str) -> Unauthenticated:
    return Unauthenticated(message, reason=Reason.TOKEN_INVALID)
