"""Prometheus metrics of the metadata store: statement time (an engine event hook),
the connection pool's use (read when scraped), and the backlogs of the background
work, counted by a few indexed queries when scraped.

Statements the store runs through a driver directly (a raw read path) are not timed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Final

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection

from tams_server.store.clock import now_ns
from tams_server.store.deletions import IN_PROGRESS
from tams_server.store.deliveries import ACTIVE
from tams_server.store.engine import Database
from tams_server.store.schema import (
    events,
    flow_delete_requests,
    multipart_uploads,
    objects,
    webhooks,
)

QUERY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
)  # fmt: skip
BACKLOG_CAP = 100_000
"""Backlog counts stop here: a scrape stays cheap however far behind the work is."""

_STARTED_KEY = "tams_statement_started"
# With several processes (``serve --processes``), a backlog gauge shows the value the
# last scrape read, whichever process answered it (ignored by a single process).
_NEWEST: Final = "mostrecent"


class DatabaseMetrics(Collector):
    """``tams_db_query_seconds`` (every statement SQLAlchemy runs) and the pool's
    connections (``tams_db_pool_*``), for ``database`` on ``registry``."""

    def __init__(self, database: Database, registry: CollectorRegistry) -> None:
        self._engine = database.engine
        self._seconds = Histogram(
            "tams_db_query_seconds",
            "Time of each SQL statement, from its send to its result (waits for the "
            "driver included).",
            buckets=QUERY_BUCKETS,
            registry=registry,
        )
        for engine in database.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", self._before)
            event.listen(engine.sync_engine, "after_cursor_execute", self._after)
        registry.register(self)

    def _before(self, conn: Connection, *_: Any) -> None:
        conn.info[_STARTED_KEY] = time.perf_counter()

    def _after(self, conn: Connection, *_: Any) -> None:
        started = conn.info.pop(_STARTED_KEY, None)
        if started is not None:
            self._seconds.observe(time.perf_counter() - started)

    def collect(self) -> Iterable[Metric]:
        pool: Any = self._engine.pool
        for name, reading, text in (
            ("tams_db_pool_size", "size", "Connections the pool keeps open."),
            ("tams_db_pool_checked_out", "checkedout", "Connections in use."),
            ("tams_db_pool_checked_in", "checkedin", "Idle connections in the pool."),
            ("tams_db_pool_overflow", "overflow", "Connections beyond the pool's size."),
        ):
            read = getattr(pool, reading, None)
            if read is not None:
                yield GaugeMetricFamily(name, text, value=float(read()))


class BacklogMetrics:
    """Work the background jobs have yet to do, read with ``refresh()`` (at scrape
    time; each count stops at ``BACKLOG_CAP``)."""

    def __init__(self, database: Database, registry: CollectorRegistry) -> None:
        self._db = database
        self.delete_requests = Gauge(
            "tams_flow_delete_requests_pending",
            "Flow delete requests created or started, not yet done.",
            registry=registry,
            multiprocess_mode=_NEWEST,
        )
        self.expired_objects = Gauge(
            "tams_janitor_expired_objects",
            "Objects past their expiry that the janitor has yet to look at.",
            registry=registry,
            multiprocess_mode=_NEWEST,
        )
        self.expired_uploads = Gauge(
            "tams_janitor_expired_multipart_uploads",
            "Multipart uploads past their expiry that the janitor has yet to abort.",
            registry=registry,
            multiprocess_mode=_NEWEST,
        )
        self.outbox_cursor = Gauge(
            "tams_events_last_cursor", "Cursor of the newest event in the outbox.",
            registry=registry,
            multiprocess_mode=_NEWEST,
        )  # fmt: skip
        self.outbox_lag = Gauge(
            "tams_webhook_outbox_lag_events",
            "Outbox cursors between the newest event and the active webhook furthest "
            "behind (0 when none is behind).",
            registry=registry,
            multiprocess_mode=_NEWEST,
        )

    async def refresh(self) -> None:
        """Read the backlogs into the gauges."""
        now = now_ns()
        async with self._db.read() as conn:
            pending = await conn.scalar(
                _capped(
                    select(flow_delete_requests.c.id).where(
                        flow_delete_requests.c.status.in_(IN_PROGRESS)
                    )
                )
            )
            expired = await conn.scalar(
                _capped(select(objects.c.id).where(objects.c.expires_ns < now))
            )
            uploads = await conn.scalar(
                _capped(select(multipart_uploads.c.id).where(multipart_uploads.c.expires_ns < now))
            )
            last = await conn.scalar(select(func.max(events.c.cursor)))
            behind = await conn.scalar(
                select(func.min(webhooks.c.next_cursor)).where(webhooks.c.status.in_(ACTIVE))
            )
        self.delete_requests.set(pending or 0)
        self.expired_objects.set(expired or 0)
        self.expired_uploads.set(uploads or 0)
        self.outbox_cursor.set(last or 0)
        lag = 0 if last is None or behind is None else max(0, last + 1 - behind)
        self.outbox_lag.set(lag)


def _capped(rows: Any) -> Any:
    """``SELECT count(*)`` of at most ``BACKLOG_CAP`` of ``rows``."""
    return select(func.count()).select_from(rows.limit(BACKLOG_CAP).subquery())
