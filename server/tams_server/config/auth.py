"""Authentication from the configuration: the authenticator its settings describe,
and the secure-by-default rule (no authentication: loopback only, unless the
operator explicitly allows anonymous access)."""

from __future__ import annotations

import ipaddress
import logging

from tams_server.auth.authenticator import CredentialAuthenticator
from tams_server.auth.basic_users import BasicUsers
from tams_server.auth.jwt_verifier import JwtVerifier
from tams_server.auth.keys import AuthSetupError, TrustedKey, jwks_keys, public_key, secret_key
from tams_server.auth.static_tokens import StaticTokens
from tams_server.config import Config

log = logging.getLogger("tams_server")


def authenticator_of(config: Config) -> CredentialAuthenticator | None:
    """The authenticator the settings ask for; None when none is configured (every
    call is anonymous). ``AuthSetupError`` when a key or file is unusable."""
    keys: list[TrustedKey] = []
    if config.jwt_secret is not None:
        keys.append(secret_key(config.jwt_secret))
    if config.jwt_public_key is not None:
        keys.append(public_key(config.jwt_public_key))
    if config.jwks_file is not None:
        keys += jwks_keys(config.jwks_file)
    jwts = None
    if keys:
        jwts = JwtVerifier(
            keys,
            issuer=config.jwt_issuer,
            audience=config.jwt_audience,
            groups_claim=config.groups_claim,
        )
    tokens = StaticTokens.load(config.tokens_file) if config.tokens_file else None
    basic = BasicUsers.load(config.basic_users_file) if config.basic_users_file else None
    if jwts is None and tokens is None and basic is None:
        return None
    return CredentialAuthenticator(jwts=jwts, tokens=tokens, basic=basic)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback interface (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(config: Config, *, authenticated: bool) -> None:
    """Refuse to serve anonymously beyond loopback unless ``allow_anonymous`` says so
    (then warn): anyone who can reach the ports could read, change and delete all."""
    if authenticated:
        return
    exposed = [h for h in (config.grpc_host, config.http_host) if not is_loopback(h)]
    if not exposed:
        return
    if not config.allow_anonymous:
        raise AuthSetupError(
            f"refusing to serve without authentication on {', '.join(exposed)}: configure "
            "--jwt-secret, --jwt-public-key, --jwks-file, --tokens-file or "
            "--basic-users-file, bind 127.0.0.1, or pass --allow-anonymous "
            "(TAMS_ALLOW_ANONYMOUS=true) to let anyone who reaches the ports do anything"
        )
    log.warning(
        "ANONYMOUS ACCESS on %s (--allow-anonymous): anyone who reaches the ports "
        "can read, change and delete everything",
        ", ".join(exposed),
    )
