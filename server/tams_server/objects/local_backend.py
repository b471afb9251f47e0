"""The local backend: Objects' bytes as files under the data folder, behind URLs that
this server signs and serves (``objects.local``), with multipart uploads assembled on
disk (``objects.local_multipart``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tams_server.objects.backend import Upload
from tams_server.objects.local import LocalObjectStore
from tams_server.objects.local_multipart import LocalMultipart


class LocalBackend:
    """The files of the local backend, and the uploads to them."""

    def __init__(self, files: LocalObjectStore, uploads: LocalMultipart) -> None:
        self._files = files
        self._uploads = uploads

    def url(self, method: str, key: str, *, expires_s: int, at: float | None = None) -> str:
        """A URL this server serves, signed to ``method`` ``key``."""
        return self._files.url(method, key, expires_s=expires_s, now=at)

    async def sizes(self, keyed: Sequence[tuple[str, str]]) -> dict[str, int | None]:
        """The size of each file that is there: every file looked at in one trip to a
        worker thread (a trip each cost more than the look itself: a registration of
        1,000 first-seen Objects made 1,000 trips one after another)."""
        found = await asyncio.to_thread(self._files.sizes, [key for _, key in keyed])
        return {
            object_id: size
            for (object_id, _), size in zip(keyed, found, strict=True)
            if size is not None
        }

    async def delete(self, key: str) -> None:
        """Remove the file (none there is fine)."""
        await asyncio.to_thread(self._files.path_of(key).unlink, missing_ok=True)

    async def start_upload(self, upload_id: str, key: str, content_type: str | None) -> None:
        """Make room for the parts; the upload has no id but ours."""
        await self._uploads.start(upload_id)

    def part_url(
        self, upload: Upload, part_number: int, content_md5: str, *, expires_s: int
    ) -> str:
        """The signed URL of one part."""
        return self._uploads.part_url(upload.id, part_number, content_md5, expires_s)

    async def complete_upload(self, upload: Upload, parts: Sequence[tuple[int, str]]) -> str:
        """Assemble the parts into the Object's file."""
        return await self._uploads.complete(upload.id, upload.key, parts)

    async def abort_upload(self, upload: Upload) -> None:
        """Drop the parts."""
        await self._uploads.abort(upload.id)
