"""Multipart uploads on whichever backend holds the Object, as the services call
them (by backend description and upload ids)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tams_server.domain.storage import StorageBackend
from tams_server.objects.backend import Backend, Upload


class Multipart:
    """Start, part URLs, completion and abort, by backend."""

    def __init__(self, backends: Mapping[str, Backend]) -> None:
        self._backends = backends

    async def start(
        self, backend: StorageBackend, upload_id: str, key: str, content_type: str | None
    ) -> str | None:
        """Begin an upload; returns the backend's own upload id (S3), if any."""
        return await self._backends[backend.id].start_upload(upload_id, key, content_type)

    def part_url(
        self,
        backend: StorageBackend,
        upload_id: str,
        backend_upload_id: str | None,
        key: str,
        part_number: int,
        content_md5: str,
        *,
        expires_s: int,
    ) -> str:
        """A URL that takes one part, with exactly this Content-MD5."""
        upload = Upload(upload_id, backend_upload_id, key)
        return self._backends[backend.id].part_url(
            upload, part_number, content_md5, expires_s=expires_s
        )

    async def complete(
        self,
        backend: StorageBackend,
        upload_id: str,
        backend_upload_id: str | None,
        key: str,
        parts: Sequence[tuple[int, str]],
    ) -> str:
        """Assemble the Object from the parts; returns its ETag."""
        upload = Upload(upload_id, backend_upload_id, key)
        return await self._backends[backend.id].complete_upload(upload, parts)

    async def abort(
        self, backend: StorageBackend, upload_id: str, backend_upload_id: str | None, key: str
    ) -> None:
        """Discard the parts."""
        upload = Upload(upload_id, backend_upload_id, key)
        await self._backends[backend.id].abort_upload(upload)
