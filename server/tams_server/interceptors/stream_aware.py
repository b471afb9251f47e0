"""The base of the interceptors: the streaming check done once.

The next handler of a response-streaming RPC returns an async generator, which must be
handed on un-awaited (and wrapped to see its messages, its errors and its end); that of
a unary RPC returns a coroutine to await. Subclasses say what to do around each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_interceptor.server import AsyncServerInterceptor

Context = grpc.aio.ServicerContext[Any, Any]


class StreamAwareInterceptor(AsyncServerInterceptor):
    """Runs ``before`` a call, then wraps its answer: ``around_unary`` or
    ``around_stream``. Each hook passes the call through unless overridden."""

    async def intercept(
        self,
        method: Callable[[Any, Any], Any],
        request_or_iterator: Any,
        context: Context,
        method_name: str,
    ) -> Any:
        await self.before(context, method_name)
        response = method(request_or_iterator, context)
        if hasattr(response, "__aiter__"):
            return self.around_stream(response, context, method_name)
        return await self.around_unary(response, context, method_name)

    async def before(self, context: Context, method_name: str) -> None:
        """Runs before the next handler is called."""

    async def around_unary(
        self, response: Awaitable[Any], context: Context, method_name: str
    ) -> Any:
        """The answer of a unary RPC, from the next handler's ``response``."""
        return await response

    def around_stream(
        self, responses: AsyncIterator[Any], context: Context, method_name: str
    ) -> AsyncIterator[Any]:
        """The messages of a response-streaming RPC, from the next handler's."""
        return responses
