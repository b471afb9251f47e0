"""Which URLs a webhook may name: http(s), of bounded length, with a host, and (unless
the service allows private receivers) not aimed at the service's own network: the SSRF
guard the spec asks for, on what the URL says. Names are not resolved here; the
delivery worker checks the addresses a name resolves to when it connects."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from tams_server.domain.errors import InvalidArgument, Reason

MAX_URL_LENGTH = 2048
_SCHEMES = ("http", "https")
_LOCAL_NAMES = ("localhost", "localhost.localdomain")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_webhook_url(url: str, field: str, *, allow_private: bool) -> str:
    """``url`` if a webhook may POST to it; INVALID_ARGUMENT naming ``field`` when it is
    no http(s) URL with a host, longer than ``MAX_URL_LENGTH``, or (reason
    ``WEBHOOK_URL_FORBIDDEN``) names a local or private receiver and ``allow_private``
    is off."""
    if not url:
        raise InvalidArgument.for_field(field, "is required", reason=Reason.MISSING_FIELD)
    if len(url) > MAX_URL_LENGTH:
        raise InvalidArgument.for_field(field, f"is longer than {MAX_URL_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise InvalidArgument.for_field(
            field, "must be an ASCII URL without spaces (percent-encode the rest)"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        raise InvalidArgument.for_field(field, f"is not a valid URL: {error}") from None
    if parts.scheme not in _SCHEMES:
        raise InvalidArgument.for_field(field, "must be an http or https URL")
    if not host:
        raise InvalidArgument.for_field(field, "must name a host")
    if not allow_private and _is_local(host):
        raise InvalidArgument.for_field(
            field,
            f"names a loopback, private, link-local or multicast receiver ({host}); "
            "the service is not configured to call such receivers",
            reason=Reason.WEBHOOK_URL_FORBIDDEN,
        )
    return url


def _is_local(host: str) -> bool:
    """Whether ``host`` (a URL's host, lower case) is a local name or an address off the
    public internet."""
    name = host.rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    address = _address(name)
    return address is not None and forbidden_address(address)


def _address(host: str) -> IpAddress | None:
    """The address a host spells, in any form a resolver takes as an address: IPv4 and
    IPv6 literals, and the legacy IPv4 forms (``2130706433``, ``0x7f.1``, ``127.1``)."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def forbidden_address(address: IpAddress) -> bool:
    """Whether a webhook must not reach ``address`` without ``--webhook-allow-private``:
    anything not globally routable (loopback, private, link-local, unspecified,
    reserved, shared) and multicast; an IPv4 address inside IPv6 counts as itself."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast
