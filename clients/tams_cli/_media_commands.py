"""``tams ingest``, ``tams export`` and ``tams watch``."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import click

from tams_cli._export import ExportReport, container_for, export_flow
from tams_cli._ingest import IngestOptions, IngestReport
from tams_cli._ingest import ingest as ingest_file
from tams_cli._output import out, print_json
from tams_cli._progress import bar
from tams_cli._runner import connection, run
from tams_cli._timing import parse_timerange
from tams_cli._watch import follow
from tams_client import AsyncTamsClient

json_flag = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _duration(value: str) -> Fraction:
    try:
        duration = Fraction(value)
    except (ValueError, ZeroDivisionError):
        message = f"{value!r} is not a number of seconds (e.g. 2, 0.5, 1001/500)"
        raise click.BadParameter(message) from None
    if duration <= 0:
        raise click.BadParameter("must be more than 0 seconds")
    return duration


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--segment-duration", default="2", show_default=True, metavar="SECONDS",
    help="Target Segment length; Segments are cut at the first key frame after it.",
)  # fmt: skip
@click.option("--source-id", help="Id of the multi-essence Source (default: a new one).")
@click.option("--label", help="Label of the Source and Flows (default: the file's name).")
@click.option(
    "--container", type=click.Choice(["ts"]), default="ts", show_default=True,
    help="Container of the Segments' Objects: MPEG-TS.",
)  # fmt: skip
@click.option(
    "--start", default="0:0", show_default=True, metavar="now|SECONDS:NANOS",
    help="Where the file's first packet goes on the TAMS (TAI) timeline.",
)  # fmt: skip
@click.option(
    "--journal", "journal_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the resume journals (default: beside each file).",
)  # fmt: skip
@click.option("--fresh", is_flag=True, help="Ignore an earlier run's journal: ingest anew.")
@click.option("--concurrency", default=4, show_default=True, help="Uploads at once.")
@json_flag
def ingest(
    files: tuple[Path, ...],
    segment_duration: str,
    source_id: str | None,
    label: str | None,
    container: str,
    start: str,
    journal_dir: Path | None,
    fresh: bool,
    concurrency: int,
    as_json: bool,
) -> None:
    """Split media FILES into Segments (no re-encoding), upload and register them.

    Each file becomes a Source with one Flow per video or audio stream and a
    multi-essence Flow collecting them. An interrupted ingest continues where it
    stopped when run again (its journal is beside the file, or in --journal).
    """
    if source_id and len(files) > 1:
        raise click.UsageError("--source-id names one Source: give one file")
    for path in files:
        if not path.is_file():
            raise click.BadParameter(f"{path} is not a file", param_hint="FILES")
    options = IngestOptions(
        segment_duration=_duration(segment_duration),
        source_id=source_id,
        label=label,
        start=start,
        journal_dir=journal_dir,
        fresh=fresh,
        concurrency=max(1, concurrency),
    )
    target = connection().target
    for path in files:
        with bar(f"ingest {path.name}", enabled=not as_json) as progress:

            def update(done: int, total: int) -> None:
                progress.update(progress.task_ids[0], completed=done, total=total)

            async def work(client: AsyncTamsClient, path: Path = path) -> IngestReport:
                return await ingest_file(client, target, path, options, update)

            report = run(work)
        if as_json:
            print_json(report.to_json())
        else:
            _print_ingest(path, report)


def _print_ingest(path: Path, report: IngestReport) -> None:
    verb = "resumed" if report.resumed else "ingested"
    out.print(
        f"{verb} {path.name}: {report.segments} segments ({report.registered_now} new) "
        f"in {report.seconds:.1f} s, starting at {report.start}"
    )
    out.print(f"source  {report.source_id}")
    for flow_id, fmt in report.flows:
        out.print(f"flow    {flow_id}  {fmt.rsplit(':', 1)[-1]}")


@click.command()
@click.argument("flow_id")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="File to write; its extension (.ts, .mp4, .mkv) chooses the container.",
)  # fmt: skip
@click.option("--timerange", help="Only this part of the Flow, e.g. [10:0_20:0).")
@click.option("--concurrency", default=4, show_default=True, help="Downloads at once.")
@json_flag
def export(
    flow_id: str, output: Path, timerange: str | None, concurrency: int, as_json: bool
) -> None:
    """Remux a Flow (or a multi-essence Flow's members) into a playable file.

    The file holds exactly the part of the Flow in --timerange: Segments inside it
    are remuxed as they are; where it cuts inside a Segment, audio is cut to the
    packet and video to the frame (the wanted frames of the group of pictures
    the cut falls in are encoded again).
    """
    try:
        container_for(output)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--output") from None
    if timerange is not None:
        try:
            span = parse_timerange(timerange)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--timerange") from None
        if span.empty:
            raise click.BadParameter(f"the range {timerange} is empty", param_hint="--timerange")
    http = connection().http
    with bar(f"export {flow_id[:8]}", enabled=not as_json) as progress:

        def update(done: int, total: int) -> None:
            progress.update(progress.task_ids[0], completed=done, total=total)

        async def work(client: AsyncTamsClient) -> ExportReport:
            async with http() as session:
                return await export_flow(
                    client, session, flow_id, output, timerange, max(1, concurrency), update
                )

        report = run(work)
    if as_json:
        print_json(report.to_json())
    else:
        out.print(
            f"wrote {report.output}: {report.segments} segments, {report.packets} packets "
            f"({report.reencoded_frames} frames encoded again), {report.bytes} bytes, "
            f"{report.timerange}"
        )


@click.command()
@click.argument("flow_ids", nargs=-1)
@click.option("--source-id", "source_ids", multiple=True, help="Only Flows of this Source.")
@click.option("--all-events", is_flag=True, help="Every event, not only added Segments.")
@click.option("--after", default="", help="Resume after this event cursor (default: now).")
@click.option("--count", type=int, default=0, help="Stop after this many events (0: never).")
@json_flag
def watch(
    flow_ids: tuple[str, ...],
    source_ids: tuple[str, ...],
    all_events: bool,
    after: str,
    count: int,
    as_json: bool,
) -> None:
    """Follow Segments as they are added to FLOW_IDS (all Flows when none).

    Prints one line per Segment (one JSON object per line with --json) until
    interrupted or --count lines are printed.
    """

    async def work(client: AsyncTamsClient) -> None:
        await follow(client, list(flow_ids), list(source_ids), after, count, all_events, as_json)

    run(work)
