"""The gRPC stubs the gateway calls, over one channel, kept on the application's
state (``http_app`` puts them there) for every handler to reach."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol, cast

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from starlette.requests import Request

from tams.v1 import (
    analytics_pb2_grpc,
    flow_delete_requests_pb2_grpc,
    flows_pb2_grpc,
    objects_pb2_grpc,
    segments_pb2_grpc,
    service_info_pb2_grpc,
    sources_pb2_grpc,
    storage_pb2_grpc,
    webhooks_pb2_grpc,
)


class HealthCheck(Protocol):
    """The standard health service's stub, as the gateway uses it (its published stubs
    leave it untyped)."""

    def Check(
        self, request: health_pb2.HealthCheckRequest
    ) -> Awaitable[health_pb2.HealthCheckResponse]:
        """The server's health."""
        ...


@dataclass(frozen=True)
class Stubs:
    """One stub per service."""

    service: service_info_pb2_grpc.ServiceInfoServiceAsyncStub
    sources: sources_pb2_grpc.SourceServiceAsyncStub
    flows: flows_pb2_grpc.FlowServiceAsyncStub
    segments: segments_pb2_grpc.SegmentServiceAsyncStub
    storage: storage_pb2_grpc.StorageServiceAsyncStub
    objects: objects_pb2_grpc.ObjectServiceAsyncStub
    deletions: flow_delete_requests_pb2_grpc.FlowDeleteRequestServiceAsyncStub
    analytics: analytics_pb2_grpc.AnalyticsServiceAsyncStub
    webhooks: webhooks_pb2_grpc.WebhookServiceAsyncStub
    health: HealthCheck

    @classmethod
    def over(cls, channel: grpc.aio.Channel) -> Stubs:
        """Stubs on ``channel``."""
        return cls(
            service_info_pb2_grpc.ServiceInfoServiceStub(channel),
            sources_pb2_grpc.SourceServiceStub(channel),
            flows_pb2_grpc.FlowServiceStub(channel),
            segments_pb2_grpc.SegmentServiceStub(channel),
            storage_pb2_grpc.StorageServiceStub(channel),
            objects_pb2_grpc.ObjectServiceStub(channel),
            flow_delete_requests_pb2_grpc.FlowDeleteRequestServiceStub(channel),
            analytics_pb2_grpc.AnalyticsServiceStub(channel),
            webhooks_pb2_grpc.WebhookServiceStub(channel),
            cast(HealthCheck, health_pb2_grpc.HealthStub(channel)),
        )


def stubs_of(request: Request) -> Stubs:
    """The stubs of the application serving ``request``."""
    stubs: Stubs = request.app.state.stubs
    return stubs
