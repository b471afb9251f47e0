"""``--tracing``: which tracing a server runs, checked before it starts.

OpenTelemetry is imported here only when tracing is on (``tams_server.tracing`` loads
it): a server with tracing off neither needs nor loads the ``tracing`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tams_server.config.errors import ConfigError

if TYPE_CHECKING:
    from tams_server.tracing import Tracing

TRACING_MODES = ("off", "console", "otlp")
"""``off`` (the default), ``console`` (spans on stderr) or ``otlp`` (spans to an OTLP
collector over gRPC, set with the standard ``OTEL_EXPORTER_OTLP_*`` variables)."""

_MISSING = (
    "--tracing {mode} needs OpenTelemetry, which comes with the tracing extra: "
    "pip install 'tams-grpc[tracing]' ({error})"
)


def tracing_of(mode: str, span_exporter: object | None = None) -> Tracing | None:
    """The tracing ``mode`` asks for; None when it is off. ``span_exporter`` (tests)
    receives the spans instead, whatever the mode."""
    if mode not in TRACING_MODES:
        raise ConfigError(f"--tracing: choose {', '.join(TRACING_MODES)}, not {mode!r}")
    if mode == "off" and span_exporter is None:
        return None
    try:
        from opentelemetry.sdk.trace.export import SpanExporter

        from tams_server.tracing import Tracing
    except ImportError as error:
        raise ConfigError(_MISSING.format(mode=mode, error=error)) from None
    if span_exporter is not None:
        if not isinstance(span_exporter, SpanExporter):
            raise ConfigError(f"span_exporter must be a SpanExporter, not {span_exporter!r}")
        return Tracing.to_exporter(span_exporter)
    return Tracing.for_mode(mode)
