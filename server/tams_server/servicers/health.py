"""The standard gRPC health service, whose overall status (service ``""``) also says
whether the database answers: readiness, not only liveness. ``GET /health`` asks it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

from tams_server.store.engine import Database

log = logging.getLogger(__name__)
# How long the database may take to answer a health check before it counts as down.
DATABASE_TIMEOUT_S = 5.0


class ReadinessHealthServicer(health.aio.HealthServicer):
    """``Check("")`` is SERVING only while the server serves and the database answers."""

    def __init__(self, database: Database) -> None:
        super().__init__()
        self._database = database

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthCheckResponse:
        """The standard check; for the whole server, with the database asked too."""
        response: health_pb2.HealthCheckResponse = await super().Check(request, context)
        if request.service or response.status != health_pb2.HealthCheckResponse.SERVING:
            return response
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_S):
                await self._database.ping()
        except Exception:  # any failure to answer means not ready
            log.warning("health: the database does not answer", exc_info=True)
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING)
        return response
