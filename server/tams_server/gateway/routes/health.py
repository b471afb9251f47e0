"""``GET /health``: liveness and readiness for load balancers and orchestrators, from
the server's standard gRPC health check (which asks the database too). Like that
check it needs no credentials: a probe carries none."""

from __future__ import annotations

from grpc_health.v1 import health_pb2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams_server.gateway.stubs import stubs_of

SERVING = health_pb2.HealthCheckResponse.SERVING


async def health(request: Request) -> Response:
    """200 ``{"status": "ok"}`` while the server serves and its database answers; 503
    ``{"status": "unavailable"}`` otherwise (and while it shuts down)."""
    response = await stubs_of(request).health.Check(health_pb2.HealthCheckRequest(service=""))
    if response.status == SERVING:
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse({"status": "unavailable"}, status_code=503)


ROUTES = [Route("/health", health, methods=["GET"])]
