"""Run one benchmark by name, or ``all`` of them one after another."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import sys
import time

BENCHMARKS = (
    "analytics",
    "auth",
    "ceiling",
    "events",
    "flows",
    "gateway",
    "hls",
    "live",
    "media",
    "scale",
    "segments",
    "storage",
    "tracing",
    "unary",
    "uploaded",
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=(*BENCHMARKS, "all"))
    parser.add_argument("--quick", action="store_true", help="a smaller size, for a smoke run")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="the smallest size that runs every step, in seconds: CI runs each benchmark so "
        "(its figures mean nothing)",
    )
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL; default: SQLite in a temp folder"
    )
    parser.add_argument(
        "--part",
        default=None,
        help="only this part of a benchmark that has parts (scale: long, flows)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    names = BENCHMARKS if args.name == "all" else (args.name,)
    for name in names:
        started = time.perf_counter()
        asyncio.run(
            run_benchmark(
                name, quick=args.quick, tiny=args.tiny, url=args.database_url, part=args.part
            )
        )
        if args.name == "all":
            print(f"bench: {name} ran in {time.perf_counter() - started:.1f} s", file=sys.stderr)


async def run_benchmark(
    name: str, *, quick: bool, tiny: bool, url: str | None, part: str | None = None
) -> None:
    """Run the benchmark ``name``; ``tiny`` where it has that size (else ``quick``);
    only its ``part`` where it has parts."""
    module = importlib.import_module(f"bench.{name}")
    options: dict[str, object] = {}
    if part is not None:
        if "part" not in inspect.signature(module.run).parameters:
            raise SystemExit(f"bench: {name} has no parts")
        options["part"] = part
    if tiny and has_tiny_mode(module.run):
        await module.run(quick=True, database_url=url, tiny=True, **options)
    else:
        await module.run(quick=quick or tiny, database_url=url, **options)


def has_tiny_mode(run: object) -> bool:
    """Whether a benchmark's ``run`` takes ``tiny``."""
    return callable(run) and "tiny" in inspect.signature(run).parameters


if __name__ == "__main__":
    main()
