"""What every backend does with Objects' bytes, and the one place that picks the
implementation of each configured backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Protocol

from tams_server.domain.storage import StorageBackend
from tams_server.objects.local_backend import LocalBackend
from tams_server.objects.s3 import S3Bucket, open_s3_backend


class Backend(Protocol):
    """Where one configured backend keeps bytes. ``upload_id`` is this service's id of
    a multipart upload, ``backend_upload_id`` the backend's own (None if it has none)."""

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
        self,
        upload_id: str,
        backend_upload_id: str | None,
        key: str,
        part_number: int,
        content_md5: str,
        *,
        expires_s: int,
    ) -> str:
        """A URL that takes one part, with exactly this Content-MD5."""
        ...

    async def complete_upload(
        self,
        upload_id: str,
        backend_upload_id: str | None,
        key: str,
        parts: Sequence[tuple[int, str]],
    ) -> str:
        """Assemble the Object from the parts; returns its ETag."""
        ...

    async def abort_upload(self, upload_id: str, backend_upload_id: str | None, key: str) -> None:
        """Discard the parts."""
        ...


async def open_backends(
    stack: AsyncExitStack,
    backends: Sequence[StorageBackend],
    buckets: Mapping[str, S3Bucket],
    local: LocalBackend,
) -> dict[str, Backend]:
    """The implementation of each backend, by id: S3 for those with a bucket (their
    clients open until ``stack`` closes), the local files for the others."""
    opened: dict[str, Backend] = {}
    for backend in backends:
        bucket = buckets.get(backend.id)
        opened[backend.id] = local if bucket is None else await open_s3_backend(stack, bucket)
    return opened
