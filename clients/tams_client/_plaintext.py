"""The warning for credentials about to cross the network in clear: a plaintext
channel is fine on loopback (the server's own default) and a Unix socket, and
nowhere else."""

from __future__ import annotations

import ipaddress
import warnings


class PlaintextCredentialsWarning(UserWarning):
    """Credentials are sent over a plaintext channel to another host."""


def warn_if_remote(target: str, *, stacklevel: int) -> None:
    """Warn (once per calling line, as Python's warning filters do by default) when
    ``target`` is neither loopback nor a Unix socket."""
    if not is_local(target):
        warnings.warn(
            f"credentials are sent in clear to {target}: use a TLS channel beyond loopback",
            PlaintextCredentialsWarning,
            stacklevel=stacklevel + 1,
        )


def is_local(target: str) -> bool:
    """Whether a gRPC target (``host:port``, ``[::1]:port``, ``dns:///host:port``,
    ``ipv4:a.b.c.d:port``, ``unix:path``) stays on this machine."""
    if target.startswith(("unix:", "unix-abstract:")):
        return True
    address = target
    if "://" in address:  # dns://[authority]/host:port
        address = address.split("://", 1)[1].split("/", 1)[-1]
    for scheme in ("dns:", "ipv4:", "ipv6:"):
        address = address.removeprefix(scheme)
    address = address.split(",", 1)[0]
    if address.startswith("["):
        host = address[1:].split("]", 1)[0]
    elif address.count(":") == 1:
        host = address.split(":", 1)[0]
    else:
        host = address  # no port, or a bare IPv6 address
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
