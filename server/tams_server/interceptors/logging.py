"""One structured log line per RPC: method, code, duration, messages sent, peer and
request id (the id also goes back to the caller in the ``x-request-id`` trailer)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from grpc_interceptor.server import AsyncServerInterceptor

from tams_server.interceptors.request_context import REQUEST_ID_KEY, request_id

log = logging.getLogger("tams_server.rpc")


class RequestLogInterceptor(AsyncServerInterceptor):
    """Outermost interceptor: times each RPC to its last streamed message."""

    async def intercept(
        self,
        method: Callable[[Any, Any], Any],
        request_or_iterator: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
    ) -> Any:
        rid = _incoming_request_id(context) or uuid.uuid4().hex
        request_id.set(rid)
        started = time.perf_counter()
        response = method(request_or_iterator, context)
        if hasattr(response, "__aiter__"):
            return self._logged_stream(response, context, method_name, rid, started)
        try:
            result = await response
        except BaseException:
            _log(method_name, context, rid, started, messages_out=0, failed=True)
            raise
        context.set_trailing_metadata(((REQUEST_ID_KEY, rid),))
        _log(method_name, context, rid, started, messages_out=1, failed=False)
        return result

    async def _logged_stream(
        self,
        responses: AsyncIterator[Any],
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
        rid: str,
        started: float,
    ) -> AsyncIterator[Any]:
        request_id.set(rid)
        count = 0
        try:
            async for response in responses:
                count += 1
                yield response
        except BaseException:
            _log(method_name, context, rid, started, messages_out=count, failed=True)
            raise
        context.set_trailing_metadata(((REQUEST_ID_KEY, rid),))
        _log(method_name, context, rid, started, messages_out=count, failed=False)


def _incoming_request_id(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and 0 < len(value) <= 128:
            return value
    return None


def _log(
    method: str,
    context: grpc.aio.ServicerContext[Any, Any],
    rid: str,
    started: float,
    *,
    messages_out: int,
    failed: bool,
) -> None:
    code: grpc.StatusCode | None = context.code()
    if code is None:
        code = grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
    name = code.name
    line = {
        "method": method,
        "code": name,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "messages_out": messages_out,
        "peer": context.peer(),
        "request_id": rid,
    }
    log.log(logging.WARNING if name == "INTERNAL" else logging.INFO, json.dumps(line))
