"""Run one benchmark by name."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging

BENCHMARKS = ("auth", "ceiling", "events", "flows", "gateway", "segments", "storage", "unary")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=BENCHMARKS)
    parser.add_argument("--quick", action="store_true", help="a smaller size, for a smoke run")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL; default: SQLite in a temp folder"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    module = importlib.import_module(f"bench.{args.name}")
    asyncio.run(module.run(quick=args.quick, database_url=args.database_url))


if __name__ == "__main__":
    main()
