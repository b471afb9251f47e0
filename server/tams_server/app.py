"""The composition root: ``serve(config)`` opens the store, starts the gRPC server and
closes everything in reverse. The CLI and the tests both use it, so tests run the
production wiring."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware

from tams.v1 import (
    analytics_pb2,
    analytics_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    flow_delete_requests_pb2,
    flow_delete_requests_pb2_grpc,
    flows_pb2,
    flows_pb2_grpc,
    objects_pb2,
    objects_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    service_info_pb2,
    service_info_pb2_grpc,
    sources_pb2,
    sources_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from tams_server.auth.authenticator import CredentialAuthenticator
from tams_server.background import (
    DeletionWorker,
    EventRetention,
    ObjectJanitor,
    RetentionWorker,
)
from tams_server.config import Config
from tams_server.config.auth import authenticator_of, check_exposure
from tams_server.config.auth_classes import load_auth_classes
from tams_server.config.errors import ConfigError
from tams_server.config.public_url import checked_public_url
from tams_server.config.storage import parse_storage
from tams_server.config.tls import ClientTls, ServerTls, server_tls
from tams_server.config.tracing import tracing_of
from tams_server.config.webhooks import check_webhook_timing
from tams_server.convert.events import event_payload
from tams_server.domain.access import AuthClassMap
from tams_server.domain.storage import StorageBackend
from tams_server.gateway.app import gateway_channel, gateway_routes, http_app
from tams_server.gateway.dialects import Dialect
from tams_server.http.metrics import (
    METRICS_ACCESS,
    HttpMetrics,
    RestMetrics,
    metrics_routes,
)
from tams_server.http.multipart import multipart_routes
from tams_server.http.objects import object_routes
from tams_server.http.server import Https, bind, http_server
from tams_server.interceptors.auth import AuthInterceptor
from tams_server.interceptors.errors import ErrorStatusInterceptor
from tams_server.interceptors.logging import RequestLogInterceptor
from tams_server.interceptors.metrics import GrpcMetrics, MetricsInterceptor
from tams_server.interceptors.scopes import ScopeInterceptor
from tams_server.objects.backends import open_backends
from tams_server.objects.local import LocalObjectStore
from tams_server.objects.local_backend import LocalBackend
from tams_server.objects.local_multipart import LocalMultipart
from tams_server.objects.multipart import Multipart
from tams_server.objects.urls import ObjectUrls
from tams_server.processes.metrics import every_process
from tams_server.processes.siblings import Siblings
from tams_server.processes.wakeups import sibling_wakeups
from tams_server.servicers.analytics import AnalyticsServicer
from tams_server.servicers.deletions import FlowDeleteRequestServicer
from tams_server.servicers.events import EventServicer
from tams_server.servicers.flows import FlowServicer
from tams_server.servicers.health import ReadinessHealthServicer
from tams_server.servicers.objects import ObjectServicer
from tams_server.servicers.segments import SegmentServicer
from tams_server.servicers.service_info import ServiceInfoServicer
from tams_server.servicers.sources import SourceServicer
from tams_server.servicers.storage import StorageServicer
from tams_server.servicers.webhooks import WebhookServicer
from tams_server.store.analytics import AnalyticsStore
from tams_server.store.deletions import DeletionStore
from tams_server.store.deliveries import DeliveryStore
from tams_server.store.engine import Database
from tams_server.store.flows import FlowStore
from tams_server.store.metrics import BacklogMetrics, DatabaseMetrics
from tams_server.store.migrate import migrate
from tams_server.store.multipart import MultipartStore
from tams_server.store.object_info import ObjectInfoStore
from tams_server.store.objects import ObjectRecordStore
from tams_server.store.outbox import EventLog, Outbox, PostgresListener, Waker, Wakeups
from tams_server.store.paging import PageTokenCodec
from tams_server.store.profiles import ProfileStore
from tams_server.store.retention import RetentionStore
from tams_server.store.segments import SegmentStore
from tams_server.store.service_info import ServiceInfoStore
from tams_server.store.settings import OBJECT_URL_SECRET, get_or_create_secret
from tams_server.store.sources import SourceStore
from tams_server.store.webhooks import WebhookStore
from tams_server.usecases.multipart import MultipartUploads
from tams_server.usecases.objects import ObjectInstances, UnusedObjects
from tams_server.usecases.retention import Retention
from tams_server.usecases.segments import SegmentWrites
from tams_server.usecases.storage import StorageAllocation
from tams_server.webhooks.metrics import DeliveryCounts
from tams_server.webhooks.receivers import Receivers
from tams_server.webhooks.worker import DeliverySettings, UrlMaking, WebhookDelivery

log = logging.getLogger("tams_server")

# Every tams.v1 service, by its full name; reflection and health list them all.
TAMS_SERVICES = tuple(
    module.DESCRIPTOR.services_by_name[name].full_name
    for module, name in (
        (sources_pb2, "SourceService"),
        (flows_pb2, "FlowService"),
        (segments_pb2, "SegmentService"),
        (storage_pb2, "StorageService"),
        (objects_pb2, "ObjectService"),
        (service_info_pb2, "ServiceInfoService"),
        (flow_delete_requests_pb2, "FlowDeleteRequestService"),
        (webhooks_pb2, "WebhookService"),
        (events_pb2, "EventService"),
        (analytics_pb2, "AnalyticsService"),
    )
)

# Services with behaviour so far. The others are designed (reflection describes them)
# and answer UNIMPLEMENTED until their issue lands.
IMPLEMENTED_SERVICES = tuple(
    f"tams.v1.{name}"
    for name in (
        "SourceService",
        "FlowService",
        "SegmentService",
        "StorageService",
        "ObjectService",
        "ServiceInfoService",
        "FlowDeleteRequestService",
        "AnalyticsService",
        "EventService",
        "WebhookService",
    )
)

# Segment listings stream in pages of up to 5,000 (with get_urls, a few MiB) and
# registrations come in big batches: allow messages well above the 4 MiB default.
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# Credentials are bounded (8 KiB) by the authenticator, which says so with a clear
# reason; the metadata limit above that bound lets such a request reach it.
_MAX_METADATA_BYTES = 16 * 1024


@dataclass(frozen=True)
class RunningServer:
    """What a started server offers its caller."""

    grpc_target: str
    """``host:port`` to dial."""
    http_url: str
    """Base URL of the HTTP side (local object URLs)."""
    objects: LocalObjectStore
    """The local object store, which signs its URLs."""
    health: health.aio.HealthServicer
    """The health service, to announce shutdown."""
    config: Config


@dataclass(frozen=True)
class CheckedConfig:
    """What ``check_config`` read from the configuration's files and settings."""

    tls: ServerTls | None
    public_url: str | None
    authenticator: CredentialAuthenticator | None
    classes: AuthClassMap | None
    dialect: Dialect


def check_config(config: Config) -> CheckedConfig:
    """The configuration's settings and files (TLS, keys, auth classes) checked before
    anything opens: ConfigError (or AuthSetupError) when the server cannot start so.
    ``serve --processes N`` checks in the parent too, to fail once, before the fork."""
    tls = server_tls(config.tls_cert, config.tls_key, config.tls_client_ca)
    public_url = checked_public_url(config.public_url)
    check_webhook_timing(config)
    if config.metrics not in METRICS_ACCESS:
        raise ConfigError(f"--metrics: choose {', '.join(METRICS_ACCESS)}, not {config.metrics!r}")
    authenticator = authenticator_of(config)
    check_exposure(config, authenticated=authenticator is not None)
    classes = load_auth_classes(config.auth_classes_file) if config.auth_classes_file else None
    dialect = Dialect.named(config.rest_dialect)
    return CheckedConfig(tls, public_url, authenticator, classes, dialect)


@asynccontextmanager
async def serve(
    config: Config,
    *,
    extra_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    siblings: Siblings | None = None,
) -> AsyncIterator[RunningServer]:
    """Run the service until the block exits, then shut down gracefully: health turns
    NOT_SERVING first, in-flight RPCs get ``config.shutdown_grace_s`` to finish.
    ``extra_interceptors`` run outermost (tests inject failures with them).
    ``siblings``: this is one process of ``serve --processes N`` (``tams_server.processes``),
    sharing the gRPC port, the HTTP socket, event wake-ups and metrics with the others."""
    checked = check_config(config)
    tls, public_url, authenticator = checked.tls, checked.public_url, checked.authenticator
    classes, dialect = checked.classes, checked.dialect
    tracing = tracing_of(config.tracing, config.span_exporter)
    async with AsyncExitStack() as stack:
        if tracing is not None:
            stack.callback(tracing.shutdown)  # last: after the spans of the shutdown
        config.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database.connect(
            config.effective_database_url, pool_size=config.database_pool_size
        )
        stack.push_async_callback(database.dispose)
        if tracing is not None:
            for engine in database.engines:
                tracing.trace_database(engine)
        # One registry per server: several servers in one process count apart.
        registry = CollectorRegistry(auto_describe=True) if config.metrics != "off" else None
        database_metrics = None if registry is None else DatabaseMetrics(database, registry)
        if config.migrate_on_start:
            await migrate(database)
        wakeups = Wakeups()
        waker: Waker = wakeups
        if siblings is not None and database.is_sqlite:  # PostgreSQL's NOTIFY does it below
            waker = await stack.enter_async_context(
                sibling_wakeups(wakeups, siblings.wakeups_dir, siblings.index, siblings.count)
            )
        if config.events_enabled:
            database.commit_hook = Outbox(event_payload, waker)
        if not database.is_sqlite:  # commits in other replicas wake this one's watchers
            _in_background(stack, "event-listener", PostgresListener(database, wakeups))
        tokens = PageTokenCodec(await get_or_create_secret(database))
        url_secret = await get_or_create_secret(database, OBJECT_URL_SECRET)
        # The HTTP side's socket is bound first: signed local URLs carry its address
        # (unless a public URL is configured).
        if siblings is None:
            sock, http_url = bind(config.http_host, config.http_port, https=tls is not None)
        else:  # bound by the parent, shared by the siblings
            sock, http_url = siblings.http_socket, siblings.http_url
        stack.callback(sock.close)
        objects = LocalObjectStore(config.data_dir / "objects", public_url or http_url, url_secret)
        local_parts = LocalMultipart(objects, config.data_dir / "multipart")
        storage = parse_storage(config.storage)
        backends = storage.backends
        implementations = await open_backends(
            stack, backends, storage.buckets, LocalBackend(objects, local_parts)
        )
        urls = ObjectUrls(implementations)
        multipart = Multipart(implementations)

        server = grpc.aio.server(
            interceptors=[
                *extra_interceptors,
                *([] if tracing is None else [tracing.server_interceptor()]),
                *([] if registry is None else [MetricsInterceptor(GrpcMetrics(registry))]),
                RequestLogInterceptor(),
                ErrorStatusInterceptor(),
                AuthInterceptor(authenticator),
                ScopeInterceptor(),
            ],
            options=[
                # Siblings share the port (reserved by their parent); a lone server
                # must not share it with anyone.
                ("grpc.so_reuseport", 0 if siblings is None else 1),
                ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.max_metadata_size", _MAX_METADATA_BYTES),
            ],
        )
        _add_servicers(server, database, tokens, config, backends, urls, multipart, classes)
        events_pb2_grpc.add_EventServiceServicer_to_server(
            EventServicer(
                EventLog(database), wakeups, urls, backends,
                url_lifetime_s=config.object_timeout_s, classes=classes,
                poll_s=config.event_poll_s,
            ),
            server,
        )  # fmt: skip
        health_servicer = ReadinessHealthServicer(database)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        reflection.enable_server_reflection(
            (*TAMS_SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        address = f"{config.grpc_host}:{config.grpc_port}"
        if tls is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, tls.grpc_credentials())
        internal_target = _internal_port(stack, server)
        await server.start()
        for name in ("", *IMPLEMENTED_SERVICES):
            await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        target = f"{config.grpc_host}:{port}"
        log.info(
            "gRPC listening on %s, database %s", target, database.engine.url.render_as_string()
        )

        async def shut_down() -> None:
            await health_servicer.enter_graceful_shutdown()
            await server.stop(config.shutdown_grace_s)

        stack.push_async_callback(shut_down)
        if config.run_workers:
            lease_ns = int(config.delete_lease_s * 1e9)
            deletions = DeletionStore(database, tokens, lease_ns=lease_ns)
            _in_background(
                stack, "deletion-worker",
                DeletionWorker(deletions, batch_size=config.delete_batch_size),
            )  # fmt: skip
            _in_background(
                stack, "object-janitor",
                ObjectJanitor(
                    UnusedObjects(ObjectRecordStore(database), urls, backends),
                    _multipart_uploads(
                        database, config, backends, multipart,
                        FlowStore(database, tokens, inline_delete_limit=config.inline_delete_limit),
                        classes,
                    ),
                    interval_s=config.janitor_interval_s,
                ),
            )  # fmt: skip
            _in_background(
                stack, "retention",
                RetentionWorker(
                    Retention(
                        RetentionStore(database),
                        FlowStore(database, tokens, inline_delete_limit=config.inline_delete_limit),
                        SegmentStore(
                            database, tokens, inline_delete_limit=config.inline_delete_limit
                        ),
                        batch=config.inline_delete_limit,
                    ),
                    interval_s=config.retention_interval_s,
                ),
            )  # fmt: skip
            _in_background(
                stack, "webhook-delivery",
                WebhookDelivery(
                    DeliveryStore(database), EventLog(database), wakeups,
                    Receivers(
                        allow_private=config.webhook_allow_private,
                        timeout_s=config.webhook_timeout_s,
                    ),
                    UrlMaking(urls, backends, config.object_timeout_s),
                    DeliverySettings(
                        lease_s=config.webhook_lease_s,
                        max_attempts=config.webhook_max_attempts,
                        first_backoff_s=config.webhook_first_backoff_s,
                        poll_s=config.event_poll_s,
                    ),
                    classes=classes,
                    on_posted=None if registry is None else DeliveryCounts(registry),
                ),
            )  # fmt: skip
            _in_background(
                stack, "event-retention",
                EventRetention(
                    EventLog(database), retention_s=config.event_retention_s,
                    interval_s=min(config.janitor_interval_s, config.event_retention_s),
                ),
            )  # fmt: skip
        # The REST gateway calls this server over gRPC, like any other client, on the
        # private socket of _internal_port.
        channel = await stack.enter_async_context(
            gateway_channel(
                internal_target,
                grpc.local_channel_credentials(grpc.LocalConnectionType.UDS),
                interceptors=() if tracing is None else tracing.client_interceptors(),
            )
        )
        routes = [
            *object_routes(objects),
            *multipart_routes(objects, local_parts),
            *gateway_routes(dialect, hls_js=config.hls_js),
        ]
        middleware = [] if tracing is None else [tracing.middleware()]
        if registry is not None:
            scraped = registry
            if siblings is not None and database_metrics is not None:
                scraped = every_process(siblings.metrics_dir, database_metrics)
            routes += metrics_routes(
                scraped,
                refresh=BacklogMetrics(database, registry).refresh,
                authenticator=authenticator,
                public=config.metrics == "public",
            )
            middleware.append(Middleware(RestMetrics, HttpMetrics(registry)))
        app = http_app(routes, channel, dialect=dialect, middleware=middleware)
        await stack.enter_async_context(http_server(app, sock, https=_https(tls)))
        yield RunningServer(
            grpc_target=target, http_url=http_url, objects=objects, health=health_servicer,
            config=config,
        )  # fmt: skip


@asynccontextmanager
async def serve_gateway(
    grpc_target: str,
    host: str,
    port: int,
    *,
    rest_dialect: str = "spec",
    grpc_tls: ClientTls | None = None,
    tls: ServerTls | None = None,
    hls_js: Path | None = None,
    tracing: str = "off",
    span_exporter: object | None = None,
) -> AsyncIterator[str]:
    """Run the REST gateway alone, calling a gRPC server at ``grpc_target`` (so that
    gateways and servers scale apart), over TLS with ``grpc_tls``, serving HTTPS with
    ``tls``, traced as ``tracing`` says (``Config.tracing``, and ``span_exporter`` as
    ``Config.span_exporter``); yields its base URL."""
    dialect = Dialect.named(rest_dialect)
    traced = tracing_of(tracing, span_exporter)
    async with AsyncExitStack() as stack:
        if traced is not None:
            stack.callback(traced.shutdown)
        channel = await stack.enter_async_context(
            gateway_channel(
                grpc_target,
                None if grpc_tls is None else grpc_tls.grpc_credentials(),
                interceptors=() if traced is None else traced.client_interceptors(),
            )
        )
        sock, http_url = bind(host, port, https=tls is not None)
        stack.callback(sock.close)
        await stack.enter_async_context(
            http_server(
                http_app(
                    gateway_routes(dialect, hls_js=hls_js),
                    channel,
                    dialect=dialect,
                    middleware=() if traced is None else [traced.middleware()],
                ),
                sock,
                https=_https(tls),
            )
        )
        yield http_url


def _https(tls: ServerTls | None) -> Https | None:
    """The HTTP side's TLS: the same files as the gRPC port's."""
    if tls is None:
        return None
    return Https(tls.cert_file, tls.key_file, tls.client_ca_file)


def _internal_port(stack: AsyncExitStack, server: grpc.aio.Server) -> str:
    """The target of a gRPC port for this process's own REST gateway: a Unix socket in
    a fresh folder only this user may enter, accepting local connections only.

    The gateway holds no rights of its own (it forwards each caller's credentials), so
    what this port must not do is let anyone skip the public port's transport checks.
    A Unix socket behind 0700 permissions does that with no key material and no
    network exposure, TLS or not: dialing the public port instead would need a client
    certificate the client CA signed (the server's own usually is not) and a
    loopback plaintext port would let any local user bypass mutual TLS. The folder
    goes after the server has stopped (the stack unwinds in reverse)."""
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="tams-"))
    target = f"unix:{folder}/grpc.sock"
    server.add_secure_port(target, grpc.local_server_credentials(grpc.LocalConnectionType.UDS))
    return target


class BackgroundJob(Protocol):
    """Work that runs beside the RPCs until told to stop."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


def _in_background(stack: AsyncExitStack, name: str, job: BackgroundJob) -> None:
    """Run ``job`` as a task; closing ``stack`` stops it and waits for it to end."""
    task = asyncio.create_task(job.run(), name=name)

    async def stop() -> None:
        job.stop()
        await task

    stack.push_async_callback(stop)


def _add_servicers(
    server: grpc.aio.Server,
    database: Database,
    tokens: PageTokenCodec,
    config: Config,
    backends: Sequence[StorageBackend],
    urls: ObjectUrls,
    multipart: Multipart,
    classes: AuthClassMap | None,
) -> None:
    limit = config.inline_delete_limit
    sources_pb2_grpc.add_SourceServiceServicer_to_server(
        SourceServicer(SourceStore(database, tokens), classes), server
    )
    flow_store = FlowStore(database, tokens, inline_delete_limit=limit)
    flows_pb2_grpc.add_FlowServiceServicer_to_server(FlowServicer(flow_store, classes), server)
    segment_store = SegmentStore(database, tokens, inline_delete_limit=limit)
    segments_pb2_grpc.add_SegmentServiceServicer_to_server(
        SegmentServicer(
            segment_store,
            SegmentWrites(segment_store, ObjectRecordStore(database), urls, backends),
            urls,
            backends,
            url_lifetime_s=config.object_timeout_s,
            classes=classes,
        ),
        server,
    )
    storage_pb2_grpc.add_StorageServiceServicer_to_server(
        StorageServicer(
            backends,
            tokens,
            StorageAllocation(
                backends,
                ObjectRecordStore(database),
                urls,
                object_timeout_s=config.object_timeout_s,
                flows=flow_store,
                classes=classes,
            ),
            _multipart_uploads(database, config, backends, multipart, flow_store, classes),
        ),
        server,
    )
    object_info = ObjectInfoStore(database, tokens)
    objects_pb2_grpc.add_ObjectServiceServicer_to_server(
        ObjectServicer(
            object_info,
            ObjectInstances(object_info, urls, backends, classes),
            urls,
            backends,
            url_lifetime_s=config.object_timeout_s,
            classes=classes,
        ),
        server,
    )
    flow_delete_requests_pb2_grpc.add_FlowDeleteRequestServiceServicer_to_server(
        FlowDeleteRequestServicer(DeletionStore(database, tokens), classes), server
    )
    analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(
        AnalyticsServicer(AnalyticsStore(database), classes), server
    )
    webhooks_pb2_grpc.add_WebhookServiceServicer_to_server(
        WebhookServicer(
            WebhookStore(database, tokens),
            allow_private=config.webhook_allow_private,
            storage_ids=[backend.id for backend in backends],
        ),
        server,
    )
    service_info_pb2_grpc.add_ServiceInfoServiceServicer_to_server(
        ServiceInfoServicer(
            ServiceInfoStore(database),
            ProfileStore(database, tokens),
            object_timeout_s=config.object_timeout_s,
        ),
        server,
    )


def _multipart_uploads(
    database: Database,
    config: Config,
    backends: Sequence[StorageBackend],
    multipart: Multipart,
    flows: FlowStore,
    classes: AuthClassMap | None,
) -> MultipartUploads:
    return MultipartUploads(
        {b.id: b for b in backends},
        MultipartStore(database),
        multipart,
        lifetime_s=config.object_timeout_s,
        flows=flows,
        classes=classes,
    )
