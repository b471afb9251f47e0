"""``tams sources|flows ls|get|rm`` and ``tams segments ls``."""

from __future__ import annotations

import click

from tams.v1 import flows_pb2, sources_pb2
from tams_cli._output import as_dict, print_fields, print_json, print_table
from tams_cli._runner import run
from tams_client import AsyncTamsClient

json_flag = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@click.group()
def sources() -> None:
    """List, show and delete Sources."""


@sources.command("ls")
@click.option("--label", help="Only Sources with this label.")
@click.option("--format", "fmt", help="Only Sources of this format URN.")
@click.option("--limit", type=int, default=0, help="At most this many (0: all).")
@json_flag
def sources_ls(label: str | None, fmt: str | None, limit: int, as_json: bool) -> None:
    """List Sources."""

    async def work(client: AsyncTamsClient) -> list[sources_pb2.Source]:
        found: list[sources_pb2.Source] = []
        filter = sources_pb2.SourceFilter(label=label, format=fmt)
        async for source in client.list_sources(filter=filter):
            found.append(source)
            if limit and len(found) >= limit:
                break
        return found

    found = run(work)
    if as_json:
        print_json([as_dict(source) for source in found])
    else:
        print_table(
            ("id", "format", "label"),
            [(s.id, s.format.rsplit(":", 1)[-1], s.label) for s in found],
        )


@sources.command("get")
@click.argument("source_id")
@json_flag
def sources_get(source_id: str, as_json: bool) -> None:
    """Show one Source."""
    source = run(lambda client: client.get_source(source_id))
    (print_json if as_json else print_fields)(as_dict(source))


@sources.command("rm")
@click.argument("source_ids", nargs=-1, required=True)
@json_flag
def sources_rm(source_ids: tuple[str, ...], as_json: bool) -> None:
    """Delete Sources (soft delete; their Flows must be gone first)."""

    async def work(client: AsyncTamsClient) -> None:
        for source_id in source_ids:
            await client.delete_source(source_id)

    run(work)
    if as_json:
        print_json({"deleted": list(source_ids)})
    else:
        for source_id in source_ids:
            click.echo(f"deleted source {source_id}")


@click.group()
def flows() -> None:
    """List, show and delete Flows."""


@flows.command("ls")
@click.option("--source-id", help="Only Flows of this Source.")
@click.option("--label", help="Only Flows with this label.")
@click.option("--format", "fmt", help="Only Flows of this format URN.")
@click.option("--limit", type=int, default=0, help="At most this many (0: all).")
@json_flag
def flows_ls(
    source_id: str | None, label: str | None, fmt: str | None, limit: int, as_json: bool
) -> None:
    """List Flows."""

    async def work(client: AsyncTamsClient) -> list[flows_pb2.Flow]:
        found: list[flows_pb2.Flow] = []
        filter = flows_pb2.FlowFilter(source_id=source_id, label=label, format=fmt)
        async for flow in client.list_flows(filter=filter):
            found.append(flow)
            if limit and len(found) >= limit:
                break
        return found

    found = run(work)
    if as_json:
        print_json([as_dict(flow) for flow in found])
    else:
        print_table(
            ("id", "format", "codec", "label", "source"),
            [(f.id, f.format.rsplit(":", 1)[-1], f.codec, f.label, f.source_id) for f in found],
        )


@flows.command("get")
@click.argument("flow_id")
@json_flag
def flows_get(flow_id: str, as_json: bool) -> None:
    """Show one Flow, with the timerange its Segments cover."""
    flow = run(lambda client: client.get_flow(flow_id, include_timerange=True))
    (print_json if as_json else print_fields)(as_dict(flow))


@flows.command("rm")
@click.argument("flow_ids", nargs=-1, required=True)
@json_flag
def flows_rm(flow_ids: tuple[str, ...], as_json: bool) -> None:
    """Delete Flows and their Segments."""

    async def work(client: AsyncTamsClient) -> list[str]:
        pending = []
        for flow_id in flow_ids:
            request = await client.delete_flow(flow_id)
            if request is not None:
                pending.append(flow_id)
        return pending

    pending = run(work)
    if as_json:
        print_json({"deleted": list(flow_ids), "in_background": pending})
    else:
        for flow_id in flow_ids:
            later = " (its Segments go in the background)" if flow_id in pending else ""
            click.echo(f"deleted flow {flow_id}{later}")


@click.group()
def segments() -> None:
    """List Segments."""


@segments.command("ls")
@click.argument("flow_id")
@click.option("--timerange", help="Only Segments overlapping this timerange, e.g. [0:0_10:0).")
@click.option("--limit", type=int, default=0, help="At most this many (0: all).")
@json_flag
def segments_ls(flow_id: str, timerange: str | None, limit: int, as_json: bool) -> None:
    """List the Segments of a Flow, in timeline order."""

    async def work(client: AsyncTamsClient) -> int:
        count = 0
        rows: list[tuple[str, str, str]] = []
        async for segment in client.list_segments(flow_id, timerange=timerange, limit=limit):
            count += 1
            if as_json:  # one line per Segment, as they stream in
                print_json(as_dict(segment))
            else:
                rows.append((segment.timerange, segment.object_id, segment.ts_offset))
        if not as_json:
            print_table(("timerange", "object", "ts_offset"), rows)
        return count

    run(work)
