"""REST dialects: what the JSON of the gateway's requests, answers and errors looks
like (design decision 11: a dialect is a translation at the edge, never a second
gateway). ``spec`` (the default) is the TAMS 8.2 spec's; ``guide-7.0`` is the TAMS API
7.0 usage guide's, translated onto the same routes and so the same gRPC calls: its
requests into the spec's forms before the spec's checks run (``guide_requests``), the
spec's answers into the guide's forms (``guide_responses``), errors into its error body
(``guide_errors``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute

SPEC = "spec"
GUIDE = "guide-7.0"
DIALECTS = (SPEC, GUIDE)
# The deprecated ``--list-shape`` values, as the dialects they now stand for.
LIST_SHAPE_DIALECTS = {"spec": SPEC, "wrapped": GUIDE}


@dataclass(frozen=True)
class Dialect:
    """One dialect: its name, and the translations of the guide's when it is that."""

    name: str = SPEC

    @classmethod
    def named(cls, name: str) -> Dialect:
        """``spec`` or ``guide-7.0``."""
        if name not in DIALECTS:
            raise ValueError(f"REST dialect must be one of {', '.join(DIALECTS)}, not {name!r}")
        return cls(name)

    @property
    def is_guide(self) -> bool:
        return self.name == GUIDE

    def routes(self, api: list[BaseRoute]) -> list[BaseRoute]:
        """The routes this dialect serves, from the spec's (already checking their
        requests against the spec)."""
        if not self.is_guide:
            return api
        from tams_server.gateway.dialects.guide_routes import guide_routes

        return guide_routes(api)

    def error(
        self, request: Request | None, status: int, error_type: str, summary: str, **extra: Any
    ) -> JSONResponse:
        """The error body of this dialect."""
        if self.is_guide:
            from tams_server.gateway.dialects.guide_errors import guide_error

            return guide_error(request, status, error_type, summary, **extra)
        from tams_server.gateway.errors import spec_error_body

        return spec_error_body(status, error_type, summary)

    def rpc_status(self, request: Request, error: grpc.aio.AioRpcError, status: int) -> int:
        """The HTTP status of a failed call, as this dialect answers it."""
        if self.is_guide:
            from tams_server.gateway.dialects.guide_errors import guide_rpc_status

            return guide_rpc_status(request, error, status)
        return status


SPEC_DIALECT = Dialect(SPEC)


def dialect_of(request: Request) -> Dialect:
    """The dialect the application serves."""
    dialect: Dialect = getattr(request.app.state, "dialect", SPEC_DIALECT)
    return dialect
