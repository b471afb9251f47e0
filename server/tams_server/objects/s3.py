"""The S3 backend: Objects' bytes in a bucket of an S3-compatible store, reached
through URLs presigned here, with control calls (multipart uploads) through aioboto3.
The backend holds the credentials; nothing outside ``objects/`` sees them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aioboto3
import httpx
from aiobotocore.config import AioConfig

from tams_server.domain.errors import Reason, Unavailable
from tams_server.objects.backend import Upload
from tams_server.objects.s3_multipart import S3Multipart
from tams_server.objects.s3_presign import Credentials, S3Presigner

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

_HEAD_CONCURRENCY = 16
_HEAD_TIMEOUT_S = 10.0
_CHECK_URL_S = 60


@dataclass(frozen=True)
class S3Bucket:
    """Where an S3 backend keeps bytes, and the credentials that reach them."""

    name: str
    endpoint_url: str
    region: str
    credentials: Credentials


async def open_s3_backend(stack: AsyncExitStack, bucket: S3Bucket) -> S3Backend:
    """The backend of ``bucket``; its S3 client stays open until ``stack`` closes."""
    credentials = bucket.credentials
    client = await stack.enter_async_context(
        aioboto3.Session().client(
            "s3",
            endpoint_url=bucket.endpoint_url,
            region_name=bucket.region,
            # None (no key configured) lets botocore look for credentials itself
            aws_access_key_id=credentials.access_key or None,
            aws_secret_access_key=credentials.secret_key or None,
            aws_session_token=credentials.session_token,
            config=AioConfig(s3={"addressing_style": "path"}),
        )
    )
    return S3Backend(bucket, client)


class S3Backend:
    """One bucket: presigned URLs, HEAD and DELETE through them, multipart uploads."""

    def __init__(self, bucket: S3Bucket, client: S3Client) -> None:
        self._bucket = bucket.name
        self._presigner = S3Presigner(bucket.endpoint_url, bucket.region, bucket.credentials)
        self._multipart = S3Multipart(client, self._presigner, bucket.name)

    def url(self, method: str, key: str, *, expires_s: int, at: float | None = None) -> str:
        """A presigned URL to ``method`` ``key``."""
        return self._presigner.url(method, self._bucket, key, expires_s=expires_s, now=at)

    async def sizes(self, keyed: Sequence[tuple[str, str]]) -> dict[str, int | None]:
        """HEAD requests, a few at a time; a size only when S3 gives a length."""
        found: dict[str, int | None] = {}
        limit = asyncio.Semaphore(_HEAD_CONCURRENCY)
        async with httpx.AsyncClient(timeout=_HEAD_TIMEOUT_S) as http:

            async def head(object_id: str, key: str) -> None:
                async with limit:
                    response = await http.head(self.url("HEAD", key, expires_s=_CHECK_URL_S))
                if response.status_code == 200:
                    length = response.headers.get("content-length", "")
                    found[object_id] = int(length) if length.isdigit() else None
                elif response.status_code != 404:
                    response.raise_for_status()

            try:
                await asyncio.gather(*(head(object_id, key) for object_id, key in keyed))
            except httpx.HTTPError as error:
                raise Unavailable(
                    f"could not check the uploaded objects in their store: {error}",
                    reason=Reason.STORAGE_UNAVAILABLE,
                ) from error
        return found

    async def delete(self, key: str) -> None:
        """DELETE through a presigned URL; an Object already gone is fine."""
        async with httpx.AsyncClient() as http:
            response = await http.delete(self.url("DELETE", key, expires_s=_CHECK_URL_S))
        if response.status_code not in (200, 204, 404):
            response.raise_for_status()

    async def start_upload(self, upload_id: str, key: str, content_type: str | None) -> str:
        """Create S3's multipart upload; returns S3's UploadId."""
        return await self._multipart.start(key, content_type)

    def part_url(
        self, upload: Upload, part_number: int, content_md5: str, *, expires_s: int
    ) -> str:
        """The presigned UploadPart URL of one part."""
        assert upload.backend_id is not None
        return self._multipart.part_url(
            upload.key, upload.backend_id, part_number, content_md5, expires_s
        )

    async def complete_upload(self, upload: Upload, parts: Sequence[tuple[int, str]]) -> str:
        """Complete S3's upload, once the list is checked against S3's parts."""
        assert upload.backend_id is not None
        return await self._multipart.complete(upload.key, upload.backend_id, parts)

    async def abort_upload(self, upload: Upload) -> None:
        """Abort S3's upload (if it got as far as having one)."""
        if upload.backend_id is not None:
            await self._multipart.abort(upload.key, upload.backend_id)
