"""Real counterparts of the client's credentials: an OAuth2 token endpoint over HTTP
(client-credentials grant, http.server in a thread) and a server interceptor that
records each call's ``authorization`` metadata and refuses the tokens it is told to."""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

import grpc

from helpers.interceptors import cut_after
from tams_server.interceptors.stream_aware import Context, StreamAwareInterceptor


@dataclass
class Grant:
    """One token request as the endpoint saw it."""

    form: dict[str, str]
    basic: tuple[str, str] | None
    """The client id and secret of an ``Authorization: Basic`` header, decoded."""


@dataclass
class TokenEndpoint:
    """Issues ``tok-1``, ``tok-2``, ... to ``client_id``/``client_secret`` with
    ``expires_in``; ``refusal`` (status, JSON body) answers every request instead."""

    client_id: str
    client_secret: str
    expires_in: float | None = 3600
    refusal: tuple[int, dict[str, Any]] | None = None
    grants: list[Grant] = field(default_factory=list)
    url: str = ""

    def answer(self, grant: Grant) -> tuple[int, dict[str, Any]]:
        self.grants.append(grant)
        if self.refusal is not None:
            return self.refusal
        if grant.form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        posted = (grant.form.get("client_id"), grant.form.get("client_secret"))
        if (grant.basic or posted) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client", "error_description": "bad client"}
        body: dict[str, Any] = {"access_token": f"tok-{len(self.grants)}", "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return 200, body


@contextmanager
def token_endpoint(endpoint: TokenEndpoint) -> Iterator[TokenEndpoint]:
    """``endpoint`` served at ``endpoint.url`` (a free loopback port) in the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            status, body = endpoint.answer(Grant(form, _basic(self.headers.get("Authorization"))))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/oauth2/token"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _basic(header: str | None) -> tuple[str, str] | None:
    if header is None or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    return unquote(user), unquote(password)


class Recorder(StreamAwareInterceptor):
    """Keeps the ``authorization`` of every call by method name (None: none sent);
    answers UNAUTHENTICATED to the headers in ``refused`` (or to all, ``refuse_all``);
    cuts the next stream of a method in ``cuts`` after that many messages."""

    def __init__(self) -> None:
        self.seen: defaultdict[str, list[str | None]] = defaultdict(list)
        self.refused: set[str] = set()
        self.refuse_all = False
        self.cuts: dict[str, int] = {}

    def reset(self) -> None:
        self.seen.clear()
        self.refused.clear()
        self.refuse_all = False
        self.cuts.clear()

    async def before(self, context: Context, method_name: str) -> None:
        metadata = dict(context.invocation_metadata() or ())
        header = metadata.get("authorization")
        sent = header.decode() if isinstance(header, bytes) else header
        self.seen[method_name.rsplit("/", 1)[-1]].append(sent)
        if sent is not None and (self.refuse_all or sent in self.refused):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "token refused")

    def around_stream(
        self, responses: AsyncIterator[Any], context: Context, method_name: str
    ) -> AsyncIterator[Any]:
        after = self.cuts.pop(method_name.rsplit("/", 1)[-1], None)
        return responses if after is None else cut_after(responses, context, after, "cut")
