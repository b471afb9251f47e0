"""Serving the HTTP side with uvicorn inside the server's own event loop.

uvicorn's ``Server.serve`` captures SIGINT/SIGTERM for itself; the CLI owns those
(health first, then a graceful stop), so the server is driven through its public
``startup``/``main_loop``/``shutdown`` steps instead, on a socket bound here so that
port 0 works.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette


@dataclass(frozen=True)
class Https:
    """The files HTTPS is served with; with ``client_ca``, clients must present a
    certificate that CA signed (mutual TLS)."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None


def bind(host: str, port: int, *, https: bool = False) -> tuple[socket.socket, str]:
    """A listening socket (port 0 = any free port) and its base URL (``https://``
    when it will serve TLS).

    TCP_NODELAY is set here because asyncio sets it only on sockets it knows to be TCP
    (``proto == IPPROTO_TCP``), and ``create_server`` leaves ``proto`` 0: with Nagle's
    algorithm on, a response whose headers and body go out in two writes waits for
    the client's delayed ACK, about 40 ms. Accepted connections inherit the option."""
    sock = socket.create_server((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    bound_host, bound_port = sock.getsockname()[:2]
    return sock, base_url(bound_host, bound_port, https=https)


def base_url(host: str, port: int, *, https: bool = False) -> str:
    """The base URL of a listener on ``host:port`` (an IPv6 address bracketed)."""
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if https else 'http'}://{host}:{port}"


@asynccontextmanager
async def http_server(
    app: Starlette, sock: socket.socket, *, https: Https | None = None
) -> AsyncIterator[None]:
    """Serve ``app`` on ``sock`` (over TLS with ``https``) until the block ends, then
    close it."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        access_log=False,
        ssl_certfile=https.cert_file if https else None,
        ssl_keyfile=https.key_file if https else None,
        ssl_ca_certs=https.client_ca_file if https else None,
        ssl_cert_reqs=ssl.CERT_REQUIRED if https and https.client_ca_file else ssl.CERT_NONE,
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)  # what Server.serve would set up
    try:
        await server.startup(sockets=[sock])
    except BaseException:
        sock.close()
        raise
    loop_task = asyncio.create_task(server.main_loop(), name="http")
    try:
        yield
    finally:
        server.should_exit = True
        await loop_task
        await server.shutdown(sockets=[sock])
        sock.close()
