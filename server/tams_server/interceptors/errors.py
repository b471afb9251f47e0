"""The one place where domain errors become gRPC statuses (design decision 6).

Each status carries a ``google.rpc.Status`` in the ``grpc-status-details-bin`` trailer
with an ``ErrorInfo`` (stable reason, domain ``tams.v1``, metadata) and, for bad
input, a ``BadRequest`` listing the offending fields. Unexpected exceptions are logged
with their traceback and answered INTERNAL with only the request id: no internals
leak to callers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from tams_server.convert.errors import status_code_of
from tams_server.domain import errors
from tams_server.interceptors.request_context import REQUEST_ID_KEY, request_id
from tams_server.interceptors.stream_aware import Context, StreamAwareInterceptor

log = logging.getLogger("tams_server.errors")

ERROR_DOMAIN = "tams.v1"


def rich_status(error: errors.TamsError) -> status_pb2.Status:
    """The ``google.rpc.Status`` describing ``error``."""
    status = status_pb2.Status(code=status_code_of(error).value[0], message=error.message)
    info = error_details_pb2.ErrorInfo(
        reason=error.reason.name, domain=ERROR_DOMAIN, metadata=error.metadata
    )
    details = [info]
    if isinstance(error, errors.InvalidArgument) and error.field_violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description
                    )
                    for v in error.field_violations
                ]
            )
        )
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return status


class ErrorStatusInterceptor(StreamAwareInterceptor):
    """Maps exceptions raised by handlers (and inner interceptors) to statuses."""

    async def around_unary(
        self, response: Awaitable[Any], context: Context, method_name: str
    ) -> Any:
        try:
            return await response
        except Exception as error:
            await self._abort(error, context)

    async def around_stream(
        self, responses: AsyncIterator[Any], context: Context, method_name: str
    ) -> AsyncIterator[Any]:
        try:
            async for response in responses:
                yield response
        except Exception as error:
            await self._abort(error, context)

    async def _abort(self, error: Exception, context: Context) -> NoReturn:
        if isinstance(error, grpc.aio.AbortError | asyncio.CancelledError):
            raise error
        trailers = ((REQUEST_ID_KEY, request_id.get()),)
        if isinstance(error, errors.TamsError):
            status = rpc_status.to_status(rich_status(error))
            await context.abort(status.code, status.details, trailers + status.trailing_metadata)
        if isinstance(error, NotImplementedError):
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED, "this method is not implemented yet", trailers
            )
        log.error("internal error; request_id=%s", request_id.get(), exc_info=error)
        await context.abort(
            grpc.StatusCode.INTERNAL, f"internal error; request_id={request_id.get()}", trailers
        )
