"""A verified token's claims -> the Principal: subject, scopes, groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tams_server.domain.errors import Reason, Unauthenticated
from tams_server.domain.principal import Principal


def principal_from_claims(claims: Mapping[str, Any], *, groups_claim: str) -> Principal:
    """Scopes come from ``scope`` (OAuth2: space separated) and ``scp`` (a list, or a
    space-separated string as some issuers send it); groups from ``groups_claim``
    (None when the token has no such claim: no fine-grained restriction)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("the token names no subject ('sub')", reason=Reason.TOKEN_INVALID)
    scopes = _strings(claims.get("scope"), "scope") | _strings(claims.get("scp"), "scp")
    groups = claims.get(groups_claim)
    return Principal(
        subject=subject,
        scopes=scopes,
        groups=None if groups is None else tuple(sorted(_strings(groups, groups_claim))),
    )


def _strings(value: Any, claim: str) -> frozenset[str]:
    """A claim that is a space-separated string or a list of strings."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    raise Unauthenticated(
        f"the token's {claim!r} claim is neither a string nor a list of strings",
        reason=Reason.TOKEN_INVALID,
        metadata={"claim": claim},
    )
