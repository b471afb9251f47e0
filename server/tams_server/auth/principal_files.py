"""Files of principals, one a line: ``<secret> <subject> [scope ...]`` for static
tokens, ``<user> <password hash> [scope ...]`` for Basic users. ``#`` starts a comment
line; blank lines are skipped. A bad line stops the server from starting, with a
message that names the file and line but never quotes a secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tams_server.auth.keys import AuthSetupError


def lines_of(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, whitespace-separated fields) of each meaningful line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AuthSetupError(f"{path}: cannot be read ({error})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            yield number, fields


def bad_line(path: Path, number: int, problem: str) -> AuthSetupError:
    """The error for line ``number`` of ``path``."""
    return AuthSetupError(f"{path}, line {number}: {problem}")
