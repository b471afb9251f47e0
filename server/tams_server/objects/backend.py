"""What every backend does with Objects' bytes: URLs to them, presence checks,
deletion and multipart uploads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Upload:
    """One multipart upload: this service's id of it, the backend's own (None when
    the backend has none), and the key of the Object it makes."""

    id: str
    backend_id: str | None
    key: str


class Backend(Protocol):
    """Where one configured backend keeps bytes."""

    def url(self, method: str, key: str, *, expires_s: int, at: float | None = None) -> str:
        """A URL that lets its holder ``method`` (GET, PUT, HEAD, DELETE) ``key``, for
        ``expires_s`` seconds from ``at`` (default now)."""
        ...

    async def sizes(self, keyed: Sequence[tuple[str, str]]) -> dict[str, int | None]:
        """Of ``keyed`` (object id, key), the ids whose bytes are there, with their size
        when the backend tells it."""
        ...

    async def delete(self, key: str) -> None:
        """Delete the bytes of ``key`` (nothing there is fine)."""
        ...

    async def start_upload(self, upload_id: str, key: str, content_type: str | None) -> str | None:
        """Begin a multipart upload; returns the backend's own upload id, if any."""
        ...

    def part_url(
        self, upload: Upload, part_number: int, content_md5: str, *, expires_s: int
    ) -> str:
        """A URL that takes one part, with exactly this Content-MD5."""
        ...

    async def complete_upload(self, upload: Upload, parts: Sequence[tuple[int, str]]) -> str:
        """Assemble the Object from the parts; returns its ETag."""
        ...

    async def abort_upload(self, upload: Upload) -> None:
        """Discard the parts."""
        ...
