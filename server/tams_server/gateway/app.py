"""The REST gateway: the TAMS JSON API as a thin ASGI layer over the gRPC API. Every
request becomes exactly one gRPC call; no database, no business rules here."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tams.v1 import common_pb2
from tams_server.gateway.body import MAX_BODY_BYTES, BodyTooLarge
from tams_server.gateway.docs import docs_routes
from tams_server.gateway.errors import error_response, http_error_response, rpc_error_response
from tams_server.gateway.extension_routes import extension_routes
from tams_server.gateway.flow_routes import flow_routes
from tams_server.gateway.paging import SPEC_LISTS, ListShape
from tams_server.gateway.property_routes import property_routes
from tams_server.gateway.query import BadRequest
from tams_server.gateway.segment_routes import segment_routes
from tams_server.gateway.service_routes import profile_routes, service_routes
from tams_server.gateway.stubs import Stubs


def gateway_routes(channel: grpc.aio.Channel, *, lists: ListShape = SPEC_LISTS) -> list[BaseRoute]:
    """Every route of the TAMS API the gateway serves, calling the server on
    ``channel``; list bodies shaped as ``lists`` says."""
    stubs = Stubs.over(channel)
    return [
        *service_routes(stubs, lists),
        *profile_routes(stubs, lists),
        *extension_routes(stubs),
        *flow_routes(stubs, lists),
        *property_routes(stubs),
        *segment_routes(stubs, lists),
        *docs_routes(),
    ]


def http_app(routes: Sequence[BaseRoute]) -> Starlette:
    """The ASGI app of the server's HTTP side: these routes, with errors answered as
    TAMS error bodies."""

    async def on_rpc_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, grpc.aio.AioRpcError)
        return rpc_error_response(error, request.method)

    async def on_bad_request(request: Request, error: Exception) -> Response:
        assert isinstance(error, BadRequest)
        return error_response(400, error.error_type, error.summary)

    async def on_too_large(request: Request, error: Exception) -> Response:
        return error_response(
            413,
            common_pb2.ERROR_REASON_BODY_TOO_LARGE,
            f"bodies are limited to {MAX_BODY_BYTES} bytes",
        )

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return http_error_response(error.status_code, str(error.detail))

    return Starlette(
        routes=list(routes),
        exception_handlers={
            grpc.aio.AioRpcError: on_rpc_error,
            BadRequest: on_bad_request,
            BodyTooLarge: on_too_large,
            HTTPException: on_http,
        },
    )
