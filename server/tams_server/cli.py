"""``tams-server serve|migrate``: flags, with ``TAMS_*`` environment variables as
defaults, into a Config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from tams_server.app import serve
from tams_server.config import DEFAULT_DATA_DIR, Config
from tams_server.store.engine import Database
from tams_server.store.migrate import migrate

log = logging.getLogger("tams_server")


def _env(name: str, default: str) -> str:
    return os.environ.get(f"TAMS_{name}", default)


def build_parser() -> argparse.ArgumentParser:
    """The command line; every flag also reads ``TAMS_<FLAG>`` for its default."""
    parser = argparse.ArgumentParser(prog="tams-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("serve", "run the server"), ("migrate", "apply schema migrations")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--data-dir", type=Path, default=Path(_env("DATA_DIR", str(DEFAULT_DATA_DIR))),
                         help="folder of the embedded database and local objects (TAMS_DATA_DIR)")  # fmt: skip
        sub.add_argument("--database-url", default=os.environ.get("TAMS_DATABASE_URL"),
                         help="postgresql+asyncpg://user@host/db; default SQLite in the data "
                              "folder (TAMS_DATABASE_URL)")  # fmt: skip
        sub.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"),
                         help="DEBUG, INFO, WARNING... (TAMS_LOG_LEVEL)")  # fmt: skip
        if name == "serve":
            sub.add_argument("--grpc-host", default=_env("GRPC_HOST", "127.0.0.1"),
                             help="gRPC interface (TAMS_GRPC_HOST)")  # fmt: skip
            sub.add_argument("--grpc-port", type=int, default=int(_env("GRPC_PORT", "50051")),
                             help="gRPC port, 0 = any free port (TAMS_GRPC_PORT)")  # fmt: skip
            sub.add_argument("--http-host", default=_env("HTTP_HOST", "127.0.0.1"),
                             help="HTTP interface (TAMS_HTTP_HOST)")  # fmt: skip
            sub.add_argument("--http-port", type=int, default=int(_env("HTTP_PORT", "8000")),
                             help="HTTP port for the REST gateway (TAMS_HTTP_PORT)")  # fmt: skip
            sub.add_argument("--shutdown-grace", type=float,
                             default=float(_env("SHUTDOWN_GRACE", "10")),
                             help="seconds in-flight RPCs may run after SIGTERM (TAMS_SHUTDOWN_GRACE)")  # fmt: skip
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
        shutdown_grace_s=getattr(args, "shutdown_grace", 10.0),
    )


async def run_until_signalled(config: Config) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with serve(config) as running:
        print(f"tams-server: gRPC on {running.grpc_target}", flush=True)
        await stop.wait()
        log.info("shutting down: health NOT_SERVING, finishing in-flight RPCs")


async def run_migrations(config: Config) -> None:
    """Apply migrations and exit."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database.connect(config.effective_database_url)
    try:
        await migrate(database)
    finally:
        await database.dispose()
    print("tams-server: schema is up to date", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``tams-server`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    config = config_from_args(args)
    if args.command == "migrate":
        asyncio.run(run_migrations(config))
    else:
        asyncio.run(run_until_signalled(config))
