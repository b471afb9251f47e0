"""The HTTP side's connections send small responses at once (TCP_NODELAY): without it
a response written as headers then body waits ~40 ms for the client's delayed ACK."""

from __future__ import annotations

import socket

from tams_server.http.server import bind


def test_accepted_connections_have_nodelay() -> None:
    listener, url = bind("127.0.0.1", 0)
    with listener, socket.create_connection(listener.getsockname()[:2]):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert url.startswith("http://127.0.0.1:")
