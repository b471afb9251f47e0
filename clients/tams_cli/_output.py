"""Printing results: JSON for scripts (one document, or one line per item when
streaming), rich tables and lines for people. Errors and progress go to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def as_dict(message: Message) -> dict[str, Any]:
    """A message as JSON-ready data, proto field names kept."""
    data: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return data


def print_json(data: object) -> None:
    """One JSON document (or line) on stdout."""
    sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def print_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table for people; an empty listing says so."""
    if not rows:
        err.print("(none)")
        return
    table = Table(*columns, box=None, pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def print_fields(data: Mapping[str, Any]) -> None:
    """A resource for people: one ``name: value`` line per field."""
    width = max((len(name) for name in data), default=0)
    for name, value in data.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        out.print(f"[bold]{name:<{width}}[/bold]  {shown}")


def print_error(message: str, hint: str = "") -> None:
    """An error, and what to do about it, on stderr."""
    err.print(f"[red]error:[/red] {message}")
    if hint:
        err.print(f"[dim]hint:[/dim] {hint}")
