"""``tams-server serve|migrate|gateway|token|hash-password``: flags, with ``TAMS_*``
environment variables as defaults, into a Config (or a token, or a password hash)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from tams_server.app import check_config, serve, serve_gateway
from tams_server.auth.basic_users import hash_password
from tams_server.auth.keys import AuthSetupError
from tams_server.auth.minting import mint_token
from tams_server.config import DEFAULT_DATA_DIR, Config
from tams_server.config.errors import ConfigError
from tams_server.config.tls import client_tls, server_tls
from tams_server.config.tracing import TRACING_MODES
from tams_server.gateway.dialects import DIALECTS, LIST_SHAPE_DIALECTS
from tams_server.gc_tuning import tune_for_serving
from tams_server.http.metrics import METRICS_ACCESS
from tams_server.processes.siblings import Siblings
from tams_server.processes.supervisor import serve_processes
from tams_server.store.engine import Database
from tams_server.store.migrate import migrate
from tams_server.thread_switching import shorten_thread_switches

log = logging.getLogger("tams_server")


def _rest_dialect(text: str) -> str:
    """A ``--rest-dialect`` value, checked when the command line is read."""
    if text not in DIALECTS:
        raise argparse.ArgumentTypeError(f"choose {' or '.join(DIALECTS)}, not {text!r}")
    return text


def _metrics_access(text: str) -> str:
    """A ``--metrics`` value, checked when the command line is read."""
    if text not in METRICS_ACCESS:
        raise argparse.ArgumentTypeError(f"choose {', '.join(METRICS_ACCESS)}, not {text!r}")
    return text


def _tracing_mode(text: str) -> str:
    """A ``--tracing`` value, checked when the command line is read."""
    if text not in TRACING_MODES:
        raise argparse.ArgumentTypeError(f"choose {', '.join(TRACING_MODES)}, not {text!r}")
    return text


def _list_shape(text: str) -> str:
    """A ``--list-shape`` value (deprecated: ``wrapped`` is ``--rest-dialect
    guide-7.0``), checked when the command line is read."""
    if text not in LIST_SHAPE_DIALECTS:
        raise argparse.ArgumentTypeError(f"choose {' or '.join(LIST_SHAPE_DIALECTS)}, not {text!r}")
    return text


def rest_dialect(args: argparse.Namespace) -> str:
    """The REST dialect the command line asks for: ``--rest-dialect``, or the
    deprecated ``--list-shape`` (logged as such) when only it is given."""
    dialect: str | None = getattr(args, "rest_dialect", None)
    shape: str | None = getattr(args, "list_shape", None)
    if shape is not None:
        log.warning(
            "--list-shape (TAMS_LIST_SHAPE) is deprecated and goes in the next release: "
            "use --rest-dialect %s (TAMS_REST_DIALECT)",
            LIST_SHAPE_DIALECTS[shape],
        )
        if dialect is None:
            return LIST_SHAPE_DIALECTS[shape]
    return dialect or "spec"


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    """A duration: seconds, or a number with a unit (``90m``, ``24h``, ``7d``)."""
    text = text.strip().lower()
    unit = _DURATION_UNITS.get(text[-1:])
    number = text[:-1] if unit is not None else text
    try:
        value = float(number) * (unit or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give seconds or a number with s, m, h or d (7d), not {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text!r}")
    return value


def _count(text: str) -> int:
    """A count (``--processes``, ``--database-pool-size``): a whole number, 1 or more."""
    try:
        count = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a whole number, 1 or more, not {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"give 1 or more, not {text!r}")
    return count


def _boolean(text: str) -> bool:
    """A yes/no value: ``--allow-anonymous`` alone, or ``TAMS_ALLOW_ANONYMOUS=true``."""
    answers = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
    try:
        return answers[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"say true or false, not {text!r}") from None


# (flag, environment variable, type, default, help) of each command's options.
_LOG_OPTIONS = (
    ("--log-level", "LOG_LEVEL", str, "INFO", "DEBUG, INFO, WARNING or ERROR"),
)  # fmt: skip
_DATABASE_OPTIONS = (
    ("--data-dir", "DATA_DIR", Path, str(DEFAULT_DATA_DIR),
     "folder of the embedded database and local objects"),
    ("--database-url", "DATABASE_URL", str, None,
     "postgresql+asyncpg://user@host/db; default: SQLite in the data folder"),
    ("--database-pool-size", "DATABASE_POOL_SIZE", _count, None,
     "database connections a server process opens at most, as needed, and keeps "
     "(SQLite: for reads); default 30 on PostgreSQL, 15 on SQLite"),
)  # fmt: skip
# The REST side, which `serve` runs next to gRPC and `gateway` runs alone.
_HTTP_OPTIONS = (
    ("--http-host", "HTTP_HOST", str, "127.0.0.1", "HTTP interface"),
    ("--http-port", "HTTP_PORT", int, "8000", "HTTP port (REST gateway), 0 = any free port"),
    ("--rest-dialect", "REST_DIALECT", _rest_dialect, None,
     "REST JSON: spec (the TAMS spec, default) or guide-7.0 (the TAMS API 7.0 usage guide)"),
    ("--list-shape", "LIST_SHAPE", _list_shape, None,
     "deprecated: wrapped is --rest-dialect guide-7.0, spec is spec"),
    ("--hls-js", "HLS_JS", Path, None,
     "hls.min.js for the /hls/player page; default: web/node_modules of the source tree"),
)  # fmt: skip
_GRPC_SERVER_OPTIONS = (
    ("--grpc-host", "GRPC_HOST", str, "127.0.0.1", "gRPC interface"),
    ("--grpc-port", "GRPC_PORT", int, "50051", "gRPC port, 0 = any free port"),
    ("--shutdown-grace", "SHUTDOWN_GRACE", float, "10",
     "seconds in-flight RPCs may run on after SIGTERM/SIGINT"),
)  # fmt: skip
# Who may call (serve): see the README's Security section.
_AUTH_OPTIONS = (
    ("--jwt-secret", "JWT_SECRET", str, None,
     "HS256 secret of bearer JWTs, 32+ bytes (prefer the variable: flags show in ps)"),
    ("--jwt-public-key", "JWT_PUBLIC_KEY", Path, None,
     "PEM public key of bearer JWTs (RSA: RS256, EC: ES256/384/512, Ed25519: EdDSA)"),
    ("--jwks-file", "JWKS_FILE", Path, None, "JWKS file of the public keys of bearer JWTs"),
    ("--jwt-issuer", "JWT_ISSUER", str, None, "the iss JWTs must carry"),
    ("--jwt-audience", "JWT_AUDIENCE", str, None, "the aud JWTs must include"),
    ("--groups-claim", "GROUPS_CLAIM", str, "groups", "the JWT claim listing groups"),
    ("--tokens-file", "TOKENS_FILE", Path, None,
     "static API tokens, '<sha256 hex> <subject> [scope ...]' a line"),
    ("--basic-users-file", "BASIC_USERS_FILE", Path, None,
     "HTTP Basic users, '<user> <argon2 hash> [scope ...]' a line (see hash-password)"),
    ("--auth-classes-file", "AUTH_CLASSES_FILE", Path, None,
     "fine-grained access, '<group> <class> read|write' a line (the auth_classes tag)"),
    ("--allow-anonymous", "ALLOW_ANONYMOUS", _boolean, "false",
     "serve without authentication beyond loopback (anyone reaching the ports may do all)"),
)  # fmt: skip
# How a replica runs beside others (see the README's "Running several replicas").
_REPLICA_OPTIONS = (
    ("--janitor-interval", "JANITOR_INTERVAL", _duration, "60s",
     "how often unused objects and abandoned multipart uploads are swept"),
    ("--migrate-on-start", "MIGRATE_ON_START", _boolean, "true",
     "apply schema migrations at start; false when a separate `migrate` job does it"),
    ("--workers", "WORKERS", _boolean, "true",
     "run the background workers (deletions, janitor, retention); any number of replicas may"),
    ("--processes", "PROCESSES", _count, "1",
     "server processes sharing the ports, for more cores (Linux); the first runs the workers"),
)  # fmt: skip
_EVENT_OPTIONS = (
    ("--event-retention", "EVENT_RETENTION", _duration, "7d",
     "how long events are kept for watchers and webhooks to catch up (3600, 90m, 24h, 7d)"),
    ("--events", "EVENTS", _boolean, "true",
     "write every change's events (WatchEvents, webhooks); false only to measure their cost"),
)  # fmt: skip
_WEBHOOK_OPTIONS = (
    ("--webhook-allow-private", "WEBHOOK_ALLOW_PRIVATE", _boolean, "false",
     "let webhooks name receivers on loopback, private or link-local addresses"),
    ("--webhook-timeout", "WEBHOOK_TIMEOUT", _duration, "10s",
     "how long a receiver may take to answer one delivery"),
    ("--webhook-attempts", "WEBHOOK_ATTEMPTS", int, "8",
     "failed deliveries in a row before a webhook goes to error"),
    ("--webhook-lease", "WEBHOOK_LEASE", _duration, "30s",
     "how long a replica's claim on a webhook lasts without progress"),
)  # fmt: skip
_METRICS_OPTIONS = (
    ("--metrics", "METRICS", _metrics_access, "auth",
     "who may GET /metrics: auth (as the API; with authentication, the scope "
     "tams-api/metrics or tams-api/admin), public (anyone), or off"),
)  # fmt: skip
_TRACING_OPTIONS = (
    ("--tracing", "TRACING", _tracing_mode, "off",
     "OpenTelemetry spans: off, console (on stderr) or otlp (to the collector the "
     "OTEL_EXPORTER_OTLP_* variables name); needs the tracing extra unless off"),
)  # fmt: skip
_TOKEN_OPTIONS = (
    ("--secret", "JWT_SECRET", str, None, "the server's --jwt-secret (required)"),
    ("--sub", "TOKEN_SUBJECT", str, None, "who the token names (required)"),
    ("--scope", "TOKEN_SCOPE", str, "", 'space-separated scopes: "tams-api/read tams-api/write"'),
    ("--ttl", "TOKEN_TTL", int, "3600", "seconds the token is valid"),
    ("--groups", "TOKEN_GROUPS", str, None, "comma-separated groups (for auth_classes)"),
    ("--issuer", "JWT_ISSUER", str, None, "the iss claim"),
    ("--audience", "JWT_AUDIENCE", str, None, "the aud claim"),
)  # fmt: skip
_GRPC_CLIENT_OPTIONS = (
    ("--grpc-target", "GRPC_TARGET", str, "127.0.0.1:50051", "the gRPC server to call"),
)  # fmt: skip
# TLS of the listeners (serve and gateway), the public URL (serve), and TLS toward a
# remote gRPC server (gateway).
_TLS_OPTIONS = (
    ("--tls-cert", "TLS_CERT", Path, None,
     "PEM certificate chain: gRPC and HTTP serve TLS (needs --tls-key)"),
    ("--tls-key", "TLS_KEY", Path, None, "PEM private key of --tls-cert, unencrypted"),
    ("--tls-client-ca", "TLS_CLIENT_CA", Path, None,
     "PEM CA: clients must present a certificate it signed (mutual TLS; needs --tls-cert)"),
)  # fmt: skip
_PUBLIC_URL_OPTIONS = (
    ("--public-url", "PUBLIC_URL", str, None,
     "base URL of local object and upload part URLs (behind a proxy); "
     "default: the bound HTTP address"),
)  # fmt: skip
_GRPC_CLIENT_TLS_OPTIONS = (
    ("--grpc-ca", "GRPC_CA", Path, None,
     "PEM CA of the gRPC server's certificate: call it over TLS"),
    ("--grpc-client-cert", "GRPC_CLIENT_CERT", Path, None,
     "PEM client certificate for a mutual-TLS gRPC server (with --grpc-client-key)"),
    ("--grpc-client-key", "GRPC_CLIENT_KEY", Path, None, "PEM key of --grpc-client-cert"),
)  # fmt: skip

_COMMANDS = (
    ("serve", "run the server",
     _DATABASE_OPTIONS + _LOG_OPTIONS + _GRPC_SERVER_OPTIONS + _HTTP_OPTIONS + _TLS_OPTIONS
     + _PUBLIC_URL_OPTIONS + _AUTH_OPTIONS + _EVENT_OPTIONS + _REPLICA_OPTIONS
     + _WEBHOOK_OPTIONS + _METRICS_OPTIONS + _TRACING_OPTIONS),
    ("migrate", "apply schema migrations", _DATABASE_OPTIONS + _LOG_OPTIONS),
    ("gateway", "run only the REST gateway, against a remote gRPC server",
     _GRPC_CLIENT_OPTIONS + _HTTP_OPTIONS + _LOG_OPTIONS + _TLS_OPTIONS
     + _GRPC_CLIENT_TLS_OPTIONS + _TRACING_OPTIONS),
    ("token", "print an HS256 bearer token for a server run with --jwt-secret", _TOKEN_OPTIONS),
    ("hash-password", "print the Argon2id hash of a password read from stdin", ()),
    ("health", "exit 0 when the gRPC server answers SERVING (container health checks)",
     _GRPC_CLIENT_OPTIONS + _GRPC_CLIENT_TLS_OPTIONS),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The command line; every flag also reads ``TAMS_<NAME>`` for its default."""
    parser = argparse.ArgumentParser(prog="tams-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text, options in _COMMANDS:
        sub = commands.add_parser(name, help=text)
        for flag, env, kind, default, help_text in options:
            # A string default goes through ``type`` when the flag is not given, so a
            # bad variable is refused as a bad flag is (exit 2, the reason named).
            value = os.environ.get(f"TAMS_{env}", default)
            sub.add_argument(
                flag,
                type=kind,
                default=value,
                help=f"{help_text} (TAMS_{env})",
                nargs="?" if kind is _boolean else None,
                const=True if kind is _boolean else None,
            )
        if name == "serve":
            sub.add_argument(
                "--storage",
                action="append",
                default=None,
                help="a storage backend, repeatable: local: or s3://BUCKET?endpoint=URL"
                "&region=R&label=L&default=true (TAMS_STORAGE, ';'-separated); "
                "default: local:",
            )
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """The Config a parsed command line asks for."""
    return Config(
        grpc_host=getattr(args, "grpc_host", "127.0.0.1"),
        grpc_port=getattr(args, "grpc_port", 50051),
        http_host=getattr(args, "http_host", "127.0.0.1"),
        http_port=getattr(args, "http_port", 8000),
        data_dir=args.data_dir,
        database_url=args.database_url,
        database_pool_size=args.database_pool_size,
        shutdown_grace_s=getattr(args, "shutdown_grace", 10.0),
        rest_dialect=rest_dialect(args),
        hls_js=getattr(args, "hls_js", None),
        event_retention_s=getattr(args, "event_retention", 7 * 86400.0),
        events_enabled=getattr(args, "events", True),
        migrate_on_start=getattr(args, "migrate_on_start", True),
        webhook_timeout_s=getattr(args, "webhook_timeout", 10.0),
        webhook_max_attempts=getattr(args, "webhook_attempts", 8),
        webhook_lease_s=getattr(args, "webhook_lease", 30.0),
        run_workers=getattr(args, "workers", True),
        janitor_interval_s=getattr(args, "janitor_interval", 60.0),
        jwt_secret=getattr(args, "jwt_secret", None),
        jwt_public_key=getattr(args, "jwt_public_key", None),
        jwks_file=getattr(args, "jwks_file", None),
        jwt_issuer=getattr(args, "jwt_issuer", None),
        jwt_audience=getattr(args, "jwt_audience", None),
        groups_claim=getattr(args, "groups_claim", "groups"),
        tokens_file=getattr(args, "tokens_file", None),
        basic_users_file=getattr(args, "basic_users_file", None),
        auth_classes_file=getattr(args, "auth_classes_file", None),
        allow_anonymous=getattr(args, "allow_anonymous", False),
        webhook_allow_private=getattr(args, "webhook_allow_private", False),
        metrics=getattr(args, "metrics", "auth"),
        tracing=getattr(args, "tracing", "off"),
        storage=tuple(
            getattr(args, "storage", None)
            or [spec for spec in os.environ.get("TAMS_STORAGE", "").split(";") if spec]
        ),
        tls_cert=getattr(args, "tls_cert", None),
        tls_key=getattr(args, "tls_key", None),
        tls_client_ca=getattr(args, "tls_client_ca", None),
        public_url=getattr(args, "public_url", None),
    )


async def run_until_signalled(config: Config, siblings: Siblings | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully; as one of
    ``siblings``, tell the parent once serving (it announces the target)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with serve(config, siblings=siblings) as running:
        tune_for_serving()
        shorten_thread_switches()
        if siblings is None:
            print(f"tams-server: gRPC on {running.grpc_target}", flush=True)
        else:
            siblings.ready()
        log.info("HTTP (REST gateway, local objects) on %s", running.http_url)
        await stop.wait()
        log.info("shutting down: health NOT_SERVING, finishing in-flight RPCs")


def serve_with_processes(config: Config, count: int) -> int:
    """``serve --processes N`` (N > 1): the configuration checked and the schema
    migrated once, in this process, then N children serve (``tams_server.processes``);
    the exit status."""
    check_config(config)
    if config.migrate_on_start:
        asyncio.run(_migrate(config))
    return serve_processes(
        config, count, lambda child, siblings: asyncio.run(run_until_signalled(child, siblings))
    )


async def _migrate(config: Config) -> None:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database.connect(config.effective_database_url, pool_size=config.database_pool_size)
    try:
        await migrate(database)
    finally:
        await database.dispose()


async def run_migrations(config: Config) -> None:
    """Apply migrations and exit."""
    await _migrate(config)
    print("tams-server: schema is up to date", flush=True)


async def run_gateway(args: argparse.Namespace) -> None:
    """Serve the REST gateway until SIGTERM or SIGINT."""
    grpc_tls = client_tls(args.grpc_ca, args.grpc_client_cert, args.grpc_client_key)
    tls = server_tls(args.tls_cert, args.tls_key, args.tls_client_ca)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with serve_gateway(
        args.grpc_target,
        args.http_host,
        args.http_port,
        rest_dialect=rest_dialect(args),
        grpc_tls=grpc_tls,
        tls=tls,
        hls_js=args.hls_js,
        tracing=args.tracing,
    ) as http_url:
        print(f"tams-server: REST gateway on {http_url}, calling {args.grpc_target}", flush=True)
        await stop.wait()


def check_health(args: argparse.Namespace, *, timeout_s: float = 3.0) -> int:
    """``tams-server health``: 0 when the server's overall health is SERVING, 1 when
    it is anything else or does not answer within ``timeout_s`` (the reason on
    stderr)."""
    tls = client_tls(args.grpc_ca, args.grpc_client_cert, args.grpc_client_key)
    if tls is None:
        channel = grpc.insecure_channel(args.grpc_target)
    else:
        channel = grpc.secure_channel(args.grpc_target, tls.grpc_credentials())
    with channel:
        try:
            check = channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )
            answer = check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
        except grpc.RpcError as error:
            print(f"tams-server: {args.grpc_target}: {error.code().name}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(f"tams-server: {args.grpc_target}: {status}", flush=True)
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1


def print_token(args: argparse.Namespace) -> None:
    """``tams-server token``: the token on stdout, nothing else."""
    if not args.secret or not args.sub:
        raise AuthSetupError("token needs --secret (or TAMS_JWT_SECRET) and --sub")
    groups = None if args.groups is None else [g for g in args.groups.split(",") if g]
    token = mint_token(
        args.secret, subject=args.sub, scopes=args.scope.split(), ttl_s=args.ttl,
        groups=groups, issuer=args.issuer, audience=args.audience,
    )  # fmt: skip
    print(token, flush=True)


def print_password_hash() -> None:
    """``tams-server hash-password``: a users-file hash of the password on stdin (asked
    for without echo on a terminal)."""
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline()
    print(hash_password(password.rstrip("\n")), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``tams-server`` command; a configuration it cannot start
    with ends it with the reason and exit status 2, as a bad flag does."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _run(args)
    except (ConfigError, AuthSetupError) as error:
        parser.exit(2, f"tams-server: error: {error}\n")


def _run(args: argparse.Namespace) -> None:
    if args.command == "token":
        print_token(args)
        return
    if args.command == "hash-password":
        print_password_hash()
        return
    if args.command == "health":
        sys.exit(check_health(args))
    processes: int = getattr(args, "processes", 1)
    # Several processes log to one stream: each line names its process.
    pid = " [%(process)d]" if processes > 1 else ""
    logging.basicConfig(
        level=args.log_level.upper(), format=f"%(asctime)s{pid} %(name)s %(message)s"
    )
    if args.command == "gateway":
        asyncio.run(run_gateway(args))
        return
    config = config_from_args(args)
    if args.command == "migrate":
        asyncio.run(run_migrations(config))
    elif processes > 1:
        sys.exit(serve_with_processes(config, processes))
    else:
        asyncio.run(run_until_signalled(config))
