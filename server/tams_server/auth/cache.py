"""Verified credentials, remembered briefly: the hot path pays one hash lookup, not a
signature check (or an Argon2 hash, for Basic)."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from tams_server.domain.principal import Principal


class VerifiedCache:
    """A bounded LRU of principals keyed by the SHA-256 of the credentials (never the
    credentials themselves). An entry lives ``ttl_s`` at most, and never past the
    expiry its credentials carry."""

    def __init__(self, *, max_entries: int = 10_000, ttl_s: float = 60.0) -> None:
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl_s = ttl_s
        self.hits = 0
        """Lookups answered from the cache (for metrics and tests)."""
        self.misses = 0

    @staticmethod
    def key(credentials: str) -> bytes:
        """The cache key of an ``authorization`` value."""
        return hashlib.sha256(credentials.encode()).digest()

    def get(self, key: bytes) -> Principal | None:
        """The principal remembered for ``key``, if its entry is still valid."""
        entry = self._entries.get(key)
        if entry is None or entry[1] <= time.time():
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: bytes, principal: Principal, *, expires_at: float | None) -> None:
        """Remember ``principal`` until ``expires_at`` (a POSIX time) or the TTL,
        whichever comes first; the least recently used entry makes room."""
        until = time.time() + self._ttl_s
        if expires_at is not None:
            until = min(until, expires_at)
        self._entries[key] = (principal, until)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
