"""Tags in plain Python: a string or a list of strings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tams.v1 import common_pb2

PyTagValue = str | list[str]


def tag_value(value: PyTagValue) -> common_pb2.TagValue:
    """A TagValue message from a string or a list of strings."""
    if isinstance(value, str):
        return common_pb2.TagValue(string_value=value)
    return common_pb2.TagValue(list_value=common_pb2.StringList(values=list(value)))


def tags_to_python(tags: Mapping[str, common_pb2.TagValue]) -> dict[str, PyTagValue]:
    """A tag map as plain Python values."""
    return {
        name: list(value.list_value.values)
        if value.WhichOneof("kind") == "list_value"
        else value.string_value
        for name, value in tags.items()
    }


def tag_filter(
    name: str, values: Iterable[str] = (), *, exists: bool | None = None
) -> common_pb2.TagFilter:
    """Filter on a tag: any of ``values`` (TAMS ``tag.{name}``) and/or presence
    (TAMS ``tag_exists.{name}``)."""
    return common_pb2.TagFilter(name=name, values=list(values), exists=exists)
