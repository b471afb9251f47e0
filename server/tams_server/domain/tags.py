"""Tags: free-form names mapping to a string or a list of strings (TAMS `tags.json`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from tams_server.domain.errors import NotFound, Reason

TagValue = str | tuple[str, ...]
"""A tag value: a string, or a list of strings kept as an (immutable) tuple."""

Tags = Mapping[str, TagValue]


@dataclass(frozen=True)
class TagFilter:
    """Match on one tag: any of ``values`` (TAMS `tag.{name}=a,b`) and/or presence
    (TAMS `tag_exists.{name}`)."""

    name: str
    values: tuple[str, ...] = ()
    exists: bool | None = None


@dataclass(frozen=True)
class TagEdit:
    """Setting one tag (to ``value``) or, with ``value`` None, deleting it."""

    name: str
    value: TagValue | None = None

    def applied_to(self, tags: Tags, *, owner: str, owner_id: str) -> dict[str, TagValue]:
        """``tags`` after the edit, for the ``owner`` (``flow``, ``source``) of that id;
        NOT_FOUND when the tag to delete is not there."""
        if self.value is not None:
            return {**tags, self.name: self.value}
        if self.name not in tags:
            raise NotFound(
                f"{owner} {owner_id} has no tag {self.name!r}",
                reason=Reason.TAG_NOT_FOUND,
                metadata={f"{owner}Id": owner_id, "tag": self.name},
            )
        return {name: value for name, value in tags.items() if name != self.name}


def tag_rows(tags: Tags) -> Iterator[tuple[str, str | None]]:
    """The (name, value) rows that index ``tags`` for filtering.

    One row per string, one per element of a list; an empty list still gets a row
    with value None so that ``tag_exists`` finds it.
    """
    for name, value in tags.items():
        if isinstance(value, str):
            yield name, value
        elif value:
            for item in dict.fromkeys(value):
                yield name, item
        else:
            yield name, None


def tags_to_json(tags: Tags) -> dict[str, str | list[str]]:
    """Tags in their JSON shape, for storage."""
    return {name: value if isinstance(value, str) else list(value) for name, value in tags.items()}


def tags_from_json(data: Mapping[str, str | Sequence[str]] | None) -> dict[str, TagValue]:
    """Tags from their JSON shape."""
    if not data:
        return {}
    return {name: value if isinstance(value, str) else tuple(value) for name, value in data.items()}


def tag_matches(tags: Mapping[str, TagValue], tag_filter: TagFilter) -> bool:
    """Whether ``tags`` pass one filter: the tag is present (or absent) as asked, and
    has one of the values (a list tag: shares one)."""
    value = tags.get(tag_filter.name)
    if tag_filter.exists is not None and (value is not None) != tag_filter.exists:
        return False
    if tag_filter.values:
        have = {value} if isinstance(value, str) else set(value or ())
        return bool(have & set(tag_filter.values))
    return True
