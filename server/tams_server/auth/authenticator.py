"""Call metadata -> the caller's Principal, by whichever configured means fits its
``authorization`` value."""

from __future__ import annotations

from collections.abc import Sequence

from tams_server.auth.basic_users import BasicUsers
from tams_server.auth.cache import VerifiedCache
from tams_server.auth.credentials import Basic, Bearer, authorization_of, parse_authorization
from tams_server.auth.jwt_verifier import JwtVerifier
from tams_server.auth.static_tokens import StaticTokens
from tams_server.domain.errors import Reason, Unauthenticated
from tams_server.domain.principal import Principal

SCHEMES_KEY = "authSchemes"
"""ErrorInfo metadata of every authentication failure: the schemes this service
accepts, space separated, from which the gateway writes ``WWW-Authenticate``."""


class CredentialAuthenticator:
    """Bearer tokens (static API tokens, then JWTs) and HTTP Basic, each only when
    configured. Verified credentials are cached (``VerifiedCache``)."""

    def __init__(
        self,
        *,
        jwts: JwtVerifier | None = None,
        tokens: StaticTokens | None = None,
        basic: BasicUsers | None = None,
        cache: VerifiedCache | None = None,
    ) -> None:
        self._jwts = jwts
        self._tokens = tokens
        self._basic = basic
        self.cache = cache or VerifiedCache()
        schemes = ("Bearer",) if jwts or tokens else ()
        self.schemes = " ".join((*schemes, "Basic") if basic else schemes)

    async def authenticate(self, metadata: Sequence[tuple[str, str | bytes]]) -> Principal:
        """The caller's principal, or ``Unauthenticated`` naming the accepted schemes."""
        try:
            return await self._authenticate(metadata)
        except Unauthenticated as error:
            error.metadata[SCHEMES_KEY] = self.schemes
            raise

    async def _authenticate(self, metadata: Sequence[tuple[str, str | bytes]]) -> Principal:
        value = authorization_of(metadata)
        if value is None:
            raise Unauthenticated(
                f"this service needs credentials ({self.schemes})",
                reason=Reason.CREDENTIALS_MISSING,
            )
        credentials = parse_authorization(value)
        key = VerifiedCache.key(value)
        if (cached := self.cache.get(key)) is not None:
            return cached
        expires_at: float | None = None
        match credentials:
            case Bearer(token=token):
                principal, expires_at = self._bearer(token)
            case Basic(user=user, password=password):
                if self._basic is None:
                    raise _unsupported("Basic")
                principal = await self._basic.verify(user, password)
        self.cache.put(key, principal, expires_at=expires_at)
        return principal

    def _bearer(self, token: str) -> tuple[Principal, float | None]:
        if self._tokens is not None and (principal := self._tokens.find(token)) is not None:
            return principal, None
        if self._jwts is not None:
            return self._jwts.verify(token)
        if self._tokens is not None:
            raise Unauthenticated("unknown API token", reason=Reason.TOKEN_INVALID)
        raise _unsupported("Bearer")


def _unsupported(scheme: str) -> Unauthenticated:
    return Unauthenticated(
        f"the {scheme} scheme is not enabled on this service",
        reason=Reason.CREDENTIALS_SCHEME_UNSUPPORTED,
    )
