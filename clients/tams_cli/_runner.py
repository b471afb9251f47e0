"""Running a command's coroutine with a client of the store, and turning failures
into a message, a hint and an exit code (``tams_cli._exits``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from tams_cli._connect import Connection
from tams_cli._exits import failure_of
from tams_cli._output import print_error
from tams_client import AsyncTamsClient

T = TypeVar("T")


def connection() -> Connection:
    """The connection the ``tams`` group's options (or the environment) chose."""
    found = click.get_current_context().find_object(Connection)
    if found is None:
        raise click.UsageError("no connection settings (run through the `tams` group)")
    return found


def run(work: Callable[[AsyncTamsClient], Awaitable[T]]) -> T:
    """Run ``work`` with a client; on failure print what happened and what to do, and
    exit with the failure's code."""

    async def with_client() -> T:
        async with connection().client() as client:
            return await work(client)

    try:
        return asyncio.run(with_client())
    except (click.ClickException, click.exceptions.Exit):
        raise
    except (Exception, KeyboardInterrupt) as error:
        failure = failure_of(error)
        print_error(failure.message, failure.hint)
        raise SystemExit(failure.code) from None
