"""Server configuration: one frozen value, built by the CLI from flags and ``TAMS_*``
environment variables, or directly by tests and embedding code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path("tams-data")


@dataclass(frozen=True)
class Config:
    """Everything ``serve`` needs to know."""

    grpc_host: str = "127.0.0.1"
    """Interface of the gRPC server."""
    grpc_port: int = 50051
    """gRPC port; 0 picks a free one."""
    http_host: str = "127.0.0.1"
    """Interface of the HTTP side (REST gateway, local object URLs)."""
    http_port: int = 8000
    """HTTP port; 0 picks a free one."""
    data_dir: Path = DEFAULT_DATA_DIR
    """Folder of the embedded database and the local object store."""
    database_url: str | None = None
    """SQLAlchemy URL (``postgresql+asyncpg://...``); default SQLite in ``data_dir``."""
    database_pool_size: int | None = None
    """The most database connections the process opens (as needed) and keeps; SQLite:
    for reads. Default: ``store.engine.POSTGRESQL_POOL_SIZE``/``SQLITE_READERS``."""
    shutdown_grace_s: float = 10.0
    """How long in-flight RPCs may run on after a shutdown signal."""
    migrate_on_start: bool = True
    """Apply schema migrations when the server starts."""
    inline_delete_limit: int = 10_000
    """Deletions of more Segments than this become flow delete requests."""
    delete_batch_size: int = 1_000
    """Segments the background worker deletes per transaction."""
    delete_lease_s: float = 60.0
    """How long a worker owns a delete request without progress before another
    replica (or this one, restarted) may take it over."""
    object_timeout_s: int = 3600
    """How long allocated Objects (and their upload URLs) last unused; advertised as
    min_object_timeout and min_presigned_url_timeout."""
    janitor_interval_s: float = 60.0
    """How often expired allocations are swept."""
    retention_interval_s: float = 60.0
    """How often Flows with retention tags (``segment_retention_offset``,
    ``flow_retention_offset``) are swept."""
    storage: tuple[str, ...] = ()
    """Storage backends (``local:``, ``s3://BUCKET?endpoint=...&region=...``); the
    first is the default; none means ``local:``."""
    run_workers: bool = True
    """Run the background workers in this process: the deletion worker (flow delete
    requests) and the object janitor (expired allocations, abandoned multipart uploads,
    bytes no Segment uses any more). With several replicas, any number may run them."""
    event_retention_s: float = 7 * 86400.0
    """How long the outbox keeps events (WatchEvents resumes, webhook deliveries);
    a watcher further behind gets OUT_OF_RANGE."""
    event_poll_s: float = 1.0
    """How long a watcher waits for a commit's wake-up before it looks anyway: a
    lost notification (a listener reconnecting) delays events this much at most."""
    webhook_timeout_s: float = 10.0
    """How long a webhook receiver may take to answer one delivery."""
    webhook_max_attempts: int = 8
    """Failed deliveries in a row before a webhook goes to ``error``."""
    webhook_lease_s: float = 30.0
    """How long a replica's claim on a webhook lasts without progress; after it,
    another replica resumes the delivery."""
    webhook_first_backoff_s: float = 1.0
    """Upper bound of the pause after a first failed delivery (doubling, at most 5
    minutes, with full jitter)."""
    events_enabled: bool = True
    """Write events in every change's transaction. Off only to measure what the
    outbox costs (``bench events``): watchers and webhooks then hear nothing."""
    rest_dialect: str = "spec"
    """The REST dialect: ``spec`` (the TAMS spec's JSON, the default) or ``guide-7.0``
    (the TAMS API 7.0 usage guide's requests, answers and errors)."""
    hls_js: Path | None = None
    """hls.js (``hls.min.js``) for the ``/hls/player`` page; None = the source tree's
    npm install (``web/node_modules``)."""
    jwt_secret: str | None = field(default=None, repr=False)
    """HS256 secret of bearer JWTs (at least 32 bytes)."""
    jwt_public_key: Path | None = None
    """PEM public key of bearer JWTs (RSA: RS256; EC: ES256/384/512; Ed25519)."""
    jwks_file: Path | None = None
    """JWKS file of the public keys of bearer JWTs (chosen by ``kid``)."""
    jwt_issuer: str | None = None
    """When set, JWTs must carry this ``iss``."""
    jwt_audience: str | None = None
    """When set, JWTs' ``aud`` must include it."""
    tokens_file: Path | None = None
    """Static API tokens: ``<sha256 hex> <subject> [scope ...]`` a line."""
    basic_users_file: Path | None = None
    """HTTP Basic users: ``<user> <argon2 hash> [scope ...]`` a line; Basic is off
    without it."""
    groups_claim: str = "groups"
    """The JWT claim that lists the caller's groups (for ``auth_classes``)."""
    auth_classes_file: Path | None = None
    """Fine-grained access: ``<group> <class> read|write`` a line, the rights of the
    callers' groups on Sources and Flows by their ``auth_classes`` tag."""
    allow_anonymous: bool = False
    """Serve without authentication on non-loopback interfaces (logged as a warning);
    without it, such a server refuses to start."""
    metrics: str = "auth"
    """Who may scrape ``GET /metrics`` on the HTTP side: ``auth`` (as the API: anyone
    when the server runs without authentication, else credentials with the scope
    ``tams-api/metrics`` or ``tams-api/admin``), ``public`` (anyone who reaches the
    port) or ``off`` (no ``/metrics``, nothing measured)."""
    webhook_allow_private: bool = False
    """Let webhooks name receivers on loopback, private, link-local or multicast
    addresses (refused by default, against server-side request forgery)."""

    # TLS (both listeners) and the public base URL of the HTTP side.
    tls_cert: Path | None = None
    """PEM certificate chain of both listeners; TLS is on with it (and ``tls_key``)."""
    tls_key: Path | None = None
    """PEM private key of ``tls_cert``, unencrypted."""
    tls_client_ca: Path | None = None
    """PEM CA certificates: with it, clients must present a certificate it signed
    (mutual TLS, on gRPC and HTTPS alike)."""
    public_url: str | None = None
    """Base of the URLs handed out for the HTTP side's objects and upload parts
    (behind a proxy); default: the bound address (https with TLS)."""

    tracing: str = "off"
    """OpenTelemetry tracing: ``off``, ``console`` (spans on stderr) or ``otlp`` (to a
    collector; the ``OTEL_EXPORTER_OTLP_*`` variables say where). Needs the
    ``tracing`` extra unless off; off, it costs nothing (nothing is installed)."""
    span_exporter: object | None = field(default=None, repr=False, compare=False)
    """Tests only: an OpenTelemetry ``SpanExporter`` that receives every span, as it
    ends, whatever ``tracing`` says."""

    @property
    def effective_database_url(self) -> str:
        """The database to use: the configured one, or ``<data_dir>/tams.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tams.db').resolve()}"
