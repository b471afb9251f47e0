"""``--public-url``: the base of the URLs this server hands out for its own HTTP side
(local objects' GET and PUT URLs, multipart part URLs), for when clients reach it
through a proxy, a load balancer or a DNS name rather than the bound address."""

from __future__ import annotations

from urllib.parse import urlsplit

from tams_server.config.errors import ConfigError


def checked_public_url(url: str | None) -> str | None:
    """``url`` without a trailing slash, or ConfigError naming what is wrong: it must
    be an absolute http or https URL with a host, and may have a path (a proxy's
    prefix) but no query, fragment or user information (it is copied into every URL
    handed out)."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise ConfigError(f"--public-url {url!r}: {error}") from None
    if "@" in parts.netloc:  # checked first: the URL may hold a password, so no echo
        raise ConfigError("--public-url: user information (user:password@) is not allowed")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ConfigError(f"--public-url {url!r}: the port is not a number 0-65535") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"--public-url {url!r}: the scheme must be http or https")
    if not parts.hostname:
        raise ConfigError(f"--public-url {url!r}: no host")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ConfigError(f"--public-url {url!r}: a query or fragment is not allowed")
    return url.rstrip("/")
