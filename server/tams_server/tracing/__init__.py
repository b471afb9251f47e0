"""OpenTelemetry tracing (``--tracing otlp|console``), off by default.

Only imported when tracing is on: a server without it loads none of OpenTelemetry
and installs no interceptor, middleware or database hook, so tracing costs it
nothing. The packages come with the ``tracing`` extra.

Each server gets a tracer provider of its own (not the process-wide one), so that
several servers in one process (tests, embedding code) trace apart. Spans:

- one per RPC (SERVER kind, ``opentelemetry-instrumentation-grpc``), parented to the
  caller's W3C ``traceparent`` metadata when it sends one;
- one per HTTP request on the REST side (``tracing.http``), whose gRPC call (a CLIENT
  span) carries the trace on to the server's RPC span;
- one per SQL statement sent through SQLAlchemy (``tracing.database``).
"""

from __future__ import annotations

import os
import sys

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware

from tams_server.tracing.database import trace_statements
from tams_server.tracing.http import TraceRequests


def _exporter(mode: str) -> SpanExporter:
    """The exporter of a ``--tracing`` mode (``config.tracing``): spans printed on
    stderr, or sent to an OTLP collector over gRPC (where to: the standard
    ``OTEL_EXPORTER_OTLP_*`` variables, by default localhost:4317)."""
    if mode == "console":
        return ConsoleSpanExporter(out=sys.stderr)  # stdout carries the ready line
    if mode == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise ValueError(f"no exporter for tracing mode {mode!r}")


class Tracing:
    """A server's tracer provider and the hooks that make its spans."""

    def __init__(self, processor: SpanProcessor) -> None:
        # OTEL_SERVICE_NAME (and OTEL_RESOURCE_ATTRIBUTES) win over our default name.
        defaults = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "tams-server"}
        self.provider = TracerProvider(resource=Resource.create(defaults))
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("tams_server")

    @classmethod
    def for_mode(cls, mode: str) -> Tracing:
        """Tracing exported as ``mode`` (``console`` or ``otlp``) says, in batches
        from a background thread."""
        return cls(BatchSpanProcessor(_exporter(mode)))

    @classmethod
    def to_exporter(cls, exporter: SpanExporter) -> Tracing:
        """Tracing handed to ``exporter`` span by span as each ends (tests)."""
        return cls(SimpleSpanProcessor(exporter))

    def server_interceptor(self) -> grpc.aio.ServerInterceptor:
        """A span per RPC the server answers."""
        # The instrumentation's factories carry no annotations.
        interceptor: grpc.aio.ServerInterceptor = aio_server_interceptor(  # type: ignore[no-untyped-call]
            tracer_provider=self.provider
        )
        return interceptor

    def client_interceptors(self) -> list[grpc.aio.ClientInterceptor]:
        """A span per call on a channel (the gateway's), which passes the trace on."""
        interceptors: list[grpc.aio.ClientInterceptor] = aio_client_interceptors(  # type: ignore[no-untyped-call]
            tracer_provider=self.provider
        )
        return interceptors

    def middleware(self) -> Middleware:
        """A span per HTTP request."""
        return Middleware(TraceRequests, tracer=self.tracer)

    def trace_database(self, engine: AsyncEngine) -> None:
        """A span per SQL statement on ``engine``."""
        trace_statements(engine, self.tracer)

    def shutdown(self) -> None:
        """Send the spans still buffered, then stop."""
        self.provider.shutdown()
