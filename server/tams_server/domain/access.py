"""Fine-grained access by ``auth_classes`` (TAMS AppNote 0016, ADR 0035/0055).

Sources and Flows may carry an ``auth_classes`` tag (a string or a list of strings).
The operator maps the callers' groups to classes with a right on each: ``read``, or
``write`` (which implies read). A caller's rights are the union over its groups.

- A resource with no class (no tag, or an empty list) is open to every caller whose
  scopes allow the call: classes restrict what carries them, nothing else.
- A caller with no right on a resource does not see it at all: NOT_FOUND.
- A caller who may read but is asked to write gets PERMISSION_DENIED.
- A caller whose credentials name no groups (static tokens, Basic users, JWTs without
  the claim, anonymous calls) is not restricted, so the feature is opt-in per token.

Everything here is pure; the stores apply an ``Access`` in their queries.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from tams_server.domain.errors import NotFound, PermissionDenied, Reason
from tams_server.domain.principal import Principal, current_principal
from tams_server.domain.tags import Tags

AUTH_CLASSES_TAG = "auth_classes"


class Right(StrEnum):
    """What a group may do on the resources of a class."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Access:
    """The classes one caller may read (those it may write included) and write."""

    read_classes: frozenset[str]
    write_classes: frozenset[str]

    def can_read(self, classes: Collection[str]) -> bool:
        """Whether the caller may see a resource of ``classes``."""
        return not classes or not self.read_classes.isdisjoint(classes)

    def can_write(self, classes: Collection[str]) -> bool:
        """Whether the caller may change a resource of ``classes``."""
        return not classes or not self.write_classes.isdisjoint(classes)

    def as_writer(self) -> Access:
        """An access that reads exactly what this one may write: a store's read filter
        (``store.tags.readable_clause``) applied with it keeps the writable resources."""
        return Access(self.write_classes, self.write_classes)


@dataclass(frozen=True)
class AuthClassMap:
    """The operator's map: for each group, the classes it has a right on."""

    rights: Mapping[str, Mapping[str, Right]]

    def access_for(self, caller: Principal | None) -> Access | None:
        """The caller's access; None (unrestricted) when it names no groups."""
        if caller is None or caller.groups is None:
            return None
        read: set[str] = set()
        write: set[str] = set()
        for group in caller.groups:
            for name, right in self.rights.get(group, {}).items():
                read.add(name)
                if right is Right.WRITE:
                    write.add(name)
        return Access(frozenset(read), frozenset(write))


def current_access(classes: AuthClassMap | None) -> Access | None:
    """The access of the calling principal under ``classes`` (None: no map configured,
    or a caller without groups: unrestricted)."""
    if classes is None:
        return None
    return classes.access_for(current_principal.get())


def classes_of(tags: Tags) -> tuple[str, ...]:
    """The auth classes a resource's tags give it."""
    value = tags.get(AUTH_CLASSES_TAG)
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def check_access(
    access: Access | None, tags: Tags, *, write: bool, missing: NotFound, kind: str, item_id: str
) -> None:
    """Refuse a call on the resource (a ``kind`` of that id) with ``tags``: ``missing``
    when the caller may not even read it, PERMISSION_DENIED when it may read but the
    call writes and it may not write."""
    if access is None:
        return
    classes = classes_of(tags)
    if not access.can_read(classes):
        raise missing
    if write and not access.can_write(classes):
        raise _denied(kind, item_id)


def check_new_classes(access: Access | None, tags: Tags, *, kind: str, item_id: str) -> None:
    """Refuse to give a resource classes the caller could not write (it would create
    or lock itself out of what it cannot change)."""
    if access is not None and not access.can_write(classes_of(tags)):
        raise _denied(kind, item_id)


def _denied(kind: str, item_id: str) -> PermissionDenied:
    return PermissionDenied(
        f"no write access to {kind} {item_id} by its auth_classes",
        reason=Reason.AUTH_CLASS_DENIED,
        metadata={f"{kind}Id": item_id},
    )
