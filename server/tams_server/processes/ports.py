"""The gRPC port the processes of ``serve --processes N`` share.

Each child's gRPC server binds the port with ``SO_REUSEPORT``, so the port must be
known before the fork: the parent reserves it (port 0: a free one) with a socket of
its own that also has the option, and holds it until the end, as grpc's
``examples/python/multiprocessing`` does. That socket never listens, so it takes no
connection. Before that, a plain bind checks that nothing else is bound to the port:
``SO_REUSEPORT`` alone would let this server share a port with another one started by
the same user, each getting part of the connections.
"""

from __future__ import annotations

import socket

from tams_server.config.errors import ConfigError


def reserve_port(host: str, port: int) -> tuple[socket.socket, int]:
    """A socket holding ``host:port`` for ``SO_REUSEPORT`` binds, and the port (the
    free one chosen when ``port`` is 0); ConfigError when the port is taken."""
    address = host.strip("[]")
    try:
        family, kind, proto, _, where = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[
            0
        ]
    except socket.gaierror as error:
        raise ConfigError(f"--grpc-host {host!r}: {error.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(where)
        except OSError as error:
            raise ConfigError(f"--grpc-port {port} on {host}: {error.strerror}") from None
        chosen = probe.getsockname()[1]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((where[0], chosen, *where[2:]))
    except OSError as error:
        sock.close()
        raise ConfigError(f"--grpc-port {chosen} on {host}: {error.strerror}") from None
    return sock, chosen
