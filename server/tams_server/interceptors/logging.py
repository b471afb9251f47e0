"""One structured log line per RPC: method, code, duration, messages sent, peer and
request id (the id also goes back to the caller in the ``x-request-id`` trailer)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import grpc

from tams_server.interceptors.request_context import REQUEST_ID_KEY, request_id
from tams_server.interceptors.stream_aware import Context, StreamAwareInterceptor

log = logging.getLogger("tams_server.rpc")


class RequestLogInterceptor(StreamAwareInterceptor):
    """Outermost interceptor: times each RPC to its last streamed message."""

    async def around_unary(
        self, response: Awaitable[Any], context: Context, method_name: str
    ) -> Any:
        call = _LoggedCall(context, method_name)
        try:
            result = await response
        except BaseException:
            call.log(messages_out=0, failed=True)
            raise
        call.log(messages_out=1, failed=False)
        return result

    async def around_stream(
        self, responses: AsyncIterator[Any], context: Context, method_name: str
    ) -> AsyncIterator[Any]:
        call = _LoggedCall(context, method_name)
        count = 0
        try:
            async for response in responses:
                count += 1
                yield response
        except BaseException:
            call.log(messages_out=count, failed=True)
            raise
        call.log(messages_out=count, failed=False)


class _LoggedCall:
    """One RPC from its start: its request id is set for the handlers to see."""

    def __init__(self, context: Context, method: str) -> None:
        self.context, self.method = context, method
        # Read now, while the call is alive: asking gRPC's core for the peer of a call
        # that a cancelled stream has already torn down crashes the process.
        self.peer = context.peer()
        self.rid = _incoming_request_id(context) or uuid.uuid4().hex
        request_id.set(self.rid)
        self.started = time.perf_counter()

    def log(self, *, messages_out: int, failed: bool) -> None:
        """The RPC's log line; a call that did not fail also returns its request id."""
        if not failed:
            self.context.set_trailing_metadata(((REQUEST_ID_KEY, self.rid),))
        code: grpc.StatusCode | None = self.context.code()
        if code is None:
            code = grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
        level = logging.WARNING if code == grpc.StatusCode.INTERNAL else logging.INFO
        if not log.isEnabledFor(level):  # nobody would read the line: not built
            return
        line = {
            "method": self.method,
            "code": code.name,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 3),
            "messages_out": messages_out,
            "peer": self.peer,
            "request_id": self.rid,
        }
        log.log(level, json.dumps(line))


def _incoming_request_id(context: Context) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return None
