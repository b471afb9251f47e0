"""Upload and download URLs of Objects, whichever backend holds them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from tams_server.domain.storage import StorageBackend
from tams_server.objects.local import LocalObjectStore
from tams_server.objects.s3_presign import Credentials, S3Presigner


@dataclass(frozen=True)
class UploadUrl:
    """How to upload one Object: PUT ``url`` with ``content_type``."""

    url: str
    content_type: str
    presigned: bool


class ObjectUrls:
    """Signs URLs for every configured backend (presigners built once, keys cached)."""

    def __init__(self, backends: Sequence[StorageBackend], local: LocalObjectStore) -> None:
        self._local = local
        self._s3: dict[str, tuple[S3Presigner, str]] = {}
        for backend in backends:
            if backend.kind == "s3":
                # parse_backends sets endpoint, region and bucket on every S3 backend
                credentials = Credentials(
                    backend.access_key or "", backend.secret_key or "", backend.session_token
                )
                presigner = S3Presigner(
                    backend.endpoint_url or "", backend.region or "", credentials
                )
                self._s3[backend.id] = (presigner, backend.bucket or "")

    def upload(
        self, backend: StorageBackend, key: str, content_type: str, *, expires_s: int
    ) -> UploadUrl:
        """A URL to PUT the bytes of ``key`` to ``backend``."""
        return UploadUrl(self._sign("PUT", backend, key, expires_s), content_type, True)

    def download(self, backend: StorageBackend, key: str, *, expires_s: int) -> str:
        """A URL to GET the bytes of ``key`` from ``backend``."""
        return self._sign("GET", backend, key, expires_s)

    async def delete(self, backend: StorageBackend, key: str) -> None:
        """Delete the bytes of ``key`` (nothing there is fine)."""
        if backend.kind == "s3":
            async with httpx.AsyncClient() as http:
                response = await http.delete(self._sign("DELETE", backend, key, 60))
            if response.status_code not in (200, 204, 404):
                response.raise_for_status()
            return
        path = self._local.path_of(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    def _sign(self, method: str, backend: StorageBackend, key: str, expires_s: int) -> str:
        if backend.kind == "s3":
            presigner, bucket = self._s3[backend.id]
            return presigner.url(method, bucket, key, expires_s=expires_s)
        return self._local.url(method, key, expires_s=expires_s)
