"""Static API tokens (``--tokens-file``): each line holds the SHA-256 of a token
(hex; never the token itself), its subject and its scopes::

    # printf %s "$TOKEN" | sha256sum
    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ingest tams-api/read
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tams_server.auth.principal_files import bad_line, lines_of
from tams_server.domain.principal import Principal

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


class StaticTokens:
    """The principals of known tokens, by the SHA-256 of each."""

    def __init__(self, by_hash: dict[str, Principal]) -> None:
        self._by_hash = by_hash

    @classmethod
    def load(cls, path: Path) -> StaticTokens:
        """The tokens of ``path``; ``AuthSetupError`` naming the first bad line."""
        by_hash: dict[str, Principal] = {}
        for number, fields in lines_of(path):
            if len(fields) < 2:
                raise bad_line(path, number, "expected '<sha256 hex> <subject> [scope ...]'")
            digest, subject, *scopes = fields
            if not _SHA256_HEX.fullmatch(digest):
                raise bad_line(path, number, "the first field must be a SHA-256 in hex (64 digits)")
            if digest.lower() in by_hash:
                raise bad_line(path, number, "this token hash is listed twice")
            by_hash[digest.lower()] = Principal(subject, frozenset(scopes))
        return cls(by_hash)

    def find(self, token: str) -> Principal | None:
        """The principal of ``token``, if it is one of ours."""
        return self._by_hash.get(hashlib.sha256(token.encode()).hexdigest())
