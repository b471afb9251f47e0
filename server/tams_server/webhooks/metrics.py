"""Prometheus counters of webhook delivery: each POST to a receiver, by its outcome."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class DeliveryCounts:
    """``tams_webhook_deliveries_total{result="delivered|failed"}`` on ``registry``;
    call it with each POST's outcome."""

    def __init__(self, registry: CollectorRegistry) -> None:
        counter = Counter(
            "tams_webhook_deliveries_total",
            "Event deliveries posted to webhook receivers, by outcome (a failed one is "
            "retried later).",
            ("result",),
            registry=registry,
        )
        self._delivered = counter.labels("delivered")
        self._failed = counter.labels("failed")

    def __call__(self, delivered: bool) -> None:
        (self._delivered if delivered else self._failed).inc()
