"""The ``tams`` group: connection options, and every subcommand."""

from __future__ import annotations

import click

from tams_cli._connect import Connection
from tams_cli._edit_commands import clip, concat
from tams_cli._media_commands import export, ingest, watch
from tams_cli._resources import flows, segments, sources


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 ok, 1 unexpected, 2 usage, 3 not found, 4 unreachable, "
    "5 not allowed, 6 refused, 7 media error, 8 incomplete (run again), 130 interrupted.",
)
@click.option("--target", envvar="TAMS_TARGET", help="gRPC HOST:PORT of the store [TAMS_TARGET].")
@click.option(
    "--http-url", envvar="TAMS_HTTP_URL", help="REST base URL, for relative object URLs "
    "[TAMS_HTTP_URL].",
)  # fmt: skip
@click.option("--token", envvar="TAMS_TOKEN", help="Bearer token [TAMS_TOKEN].")
@click.version_option(package_name="tams-grpc")
@click.pass_context
def cli(
    context: click.Context, target: str | None, http_url: str | None, token: str | None
) -> None:
    """Put media into a TAMS store and get it back out.

    \b
    tams ingest clip.mp4 --json        # split into Segments, upload, register
    tams export FLOW_ID -o copy.mp4    # remux a Flow back into a playable file
    tams clip FLOW_ID --timerange R    # a new Flow of part of one, by reference
    tams watch                         # follow Segments as they arrive
    """
    context.obj = Connection.resolve(target, http_url, token)


for command in (sources, flows, segments, ingest, export, watch, clip, concat):
    cli.add_command(command)


def main() -> None:
    """The ``tams`` console script."""
    cli(prog_name="tams")
