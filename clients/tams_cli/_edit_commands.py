"""``tams clip`` and ``tams concat``: new Flows that reference the Objects of others
(``tams_cli._edit``)."""

from __future__ import annotations

import click

from tams_cli._edit import EditReport, Piece, edit, parse_piece
from tams_cli._output import out, print_json
from tams_cli._runner import run
from tams_cli._timing import parse_timestamp
from tams_client import AsyncTamsClient

_to = click.option("--to", "to", metavar="FLOW_ID", help="Id of the new Flow (default: a new one).")
_label = click.option("--label", help="Label of the new Flows (default: 'edit of ...').")
_start = click.option(
    "--start", metavar="SECONDS:NANOS",
    help="Where the result starts on its timeline (default: where the first range starts).",
)  # fmt: skip
_json = click.option("--json", "as_json", is_flag=True, help='Print {"id": ...} for scripts.')


def _start_ns(start: str | None) -> int | None:
    if start is None:
        return None
    try:
        return parse_timestamp(start)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--start") from None


def _run_edit(
    pieces: list[Piece], to: str | None, label: str | None, start: str | None, as_json: bool
) -> None:
    at = _start_ns(start)

    async def work(client: AsyncTamsClient) -> EditReport:
        return await edit(client, pieces, to=to, label=label, start=at)

    report = run(work)
    if as_json:
        print_json(report.to_json())
        return
    out.print(f"flow    {report.flow_id}  {report.segments} segments, {report.timerange}")
    for member in report.members:
        out.print(f"member  {member}")


@click.command()
@click.argument("flow_id")
@click.option("--timerange", required=True, help="The part to keep, e.g. [10:0_20:0).")
@_to
@_label
@_start
@_json
def clip(
    flow_id: str,
    timerange: str,
    to: str | None,
    label: str | None,
    start: str | None,
    as_json: bool,
) -> None:
    """Make a new Flow of part of FLOW_ID, by reference: nothing is copied.

    The new Flow's Segments use the original Objects; a Segment cut by the range
    keeps its Object and uses only part of it. The clip keeps the times it had
    (or starts at --start). A multi-essence Flow's members are clipped alike and
    collected in a new multi-essence Flow.
    """
    try:
        piece = parse_piece(flow_id, timerange)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--timerange") from None
    _run_edit([piece], to, label, start, as_json)


@click.command()
@click.argument("pieces", nargs=-1, required=True, metavar="FLOW[:RANGE]...")
@click.option("--to", "to", required=True, metavar="FLOW_ID", help="Id of the new Flow.")
@_label
@_start
@_json
def concat(
    pieces: tuple[str, ...], to: str, label: str | None, start: str | None, as_json: bool
) -> None:
    """Join ranges of Flows back to back into a new Flow, by reference.

    Each FLOW[:RANGE] is a Flow id, optionally with the part to take, e.g.
    ID:[10:0_20:0). The Flows must share format, codec and container (and members,
    for multi-essence Flows). The first range starts where it was (or at --start),
    each next one where the one before ends.
    """
    try:
        parsed = [parse_piece(piece) for piece in pieces]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="FLOW[:RANGE]") from None
    _run_edit(parsed, to, label, start, as_json)
