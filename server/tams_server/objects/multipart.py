"""Multipart uploads on whichever backend holds the Object: one interface over the
local backend's parts on disk and S3's own multipart uploads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack

import aioboto3
from aiobotocore.config import AioConfig

from tams_server.domain.storage import StorageBackend
from tams_server.objects.local_multipart import LocalMultipart
from tams_server.objects.s3_multipart import S3Multipart
from tams_server.objects.urls import ObjectUrls


async def open_multipart(
    stack: AsyncExitStack,
    backends: Sequence[StorageBackend],
    urls: ObjectUrls,
    local: LocalMultipart,
) -> Multipart:
    """Multipart uploads for every backend; the S3 clients (one per backend) stay open
    until ``stack`` closes."""
    s3: dict[str, S3Multipart] = {}
    session = aioboto3.Session()
    for backend in backends:
        if backend.kind != "s3":
            continue
        client = await stack.enter_async_context(
            session.client(
                "s3",
                endpoint_url=backend.endpoint_url,
                region_name=backend.region,
                aws_access_key_id=backend.access_key,
                aws_secret_access_key=backend.secret_key,
                aws_session_token=backend.session_token,
                config=AioConfig(s3={"addressing_style": "path"}),
            )
        )
        presigner, bucket = urls.presigner(backend)
        s3[backend.id] = S3Multipart(client, presigner, bucket)
    return Multipart(local, s3)


class Multipart:
    """Start, part URLs, completion and abort, by backend."""

    def __init__(self, local: LocalMultipart, s3: Mapping[str, S3Multipart]) -> None:
        self._local = local
        self._s3 = s3

    async def start(
        self, backend: StorageBackend, upload_id: str, key: str, content_type: str | None
    ) -> str | None:
        """Begin an upload; returns the backend's own upload id (S3), if any."""
        if backend.kind == "s3":
            return await self._s3[backend.id].start(key, content_type)
        await self._local.start(upload_id)
        return None

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
        if backend.kind == "s3":
            assert backend_upload_id is not None
            return self._s3[backend.id].part_url(
                key, backend_upload_id, part_number, content_md5, expires_s
            )
        return self._local.part_url(upload_id, part_number, content_md5, expires_s)

    async def complete(
        self,
        backend: StorageBackend,
        upload_id: str,
        backend_upload_id: str | None,
        key: str,
        parts: Sequence[tuple[int, str]],
    ) -> str:
        """Assemble the Object from the parts; returns its ETag."""
        if backend.kind == "s3":
            assert backend_upload_id is not None
            return await self._s3[backend.id].complete(key, backend_upload_id, parts)
        return await self._local.complete(upload_id, key, parts)

    async def abort(
        self, backend: StorageBackend, upload_id: str, backend_upload_id: str | None, key: str
    ) -> None:
        """Discard the parts."""
        if backend.kind == "s3":
            if backend_upload_id is not None:
                await self._s3[backend.id].abort(key, backend_upload_id)
            return
        await self._local.abort(upload_id)
