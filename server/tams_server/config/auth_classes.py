"""The auth classes file (``--auth-classes-file``): which groups have which right on
the Sources and Flows of each class (see ``domain.access``).

One grant a line, ``<group> <class> read|write``; ``write`` implies read, and a group
granted both on one class keeps ``write``. ``#`` starts a comment line; blank lines
are skipped. A bad line stops the server from starting, naming the file and line."""

from __future__ import annotations

from pathlib import Path

from tams_server.auth.principal_files import bad_line, lines_of
from tams_server.domain.access import AuthClassMap, Right


def load_auth_classes(path: Path) -> AuthClassMap:
    """The map the file at ``path`` describes; ``AuthSetupError`` naming the line
    of the first bad grant."""
    rights: dict[str, dict[str, Right]] = {}
    for number, fields in lines_of(path):
        if len(fields) != 3:
            raise bad_line(path, number, "expected '<group> <class> read|write'")
        group, name, word = fields
        try:
            right = Right(word)
        except ValueError:
            raise bad_line(path, number, "the right must be read or write") from None
        granted = rights.setdefault(group, {})
        if granted.get(name) is not Right.WRITE:
            granted[name] = right
    return AuthClassMap(rights)
