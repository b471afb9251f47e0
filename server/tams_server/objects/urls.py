"""Upload and download URLs of Objects, whichever backend holds them."""

from __future__ import annotations

import asyncio
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tams_server.domain.errors import Reason, Unavailable
from tams_server.domain.storage import StorageBackend
from tams_server.objects.local import LocalObjectStore
from tams_server.objects.s3_presign import Credentials, S3Presigner

# Download URLs are stable for a minute and cached (see ObjectUrls.download).
_STABLE_S = 60
_DOWNLOADS_CACHED = 50_000
_HEAD_CONCURRENCY = 16
_HEAD_TIMEOUT_S = 10.0
_COPY_TIMEOUT = httpx.Timeout(60.0)
_COPY_URL_S = 3600


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
        self._backends = {backend.id: backend for backend in backends}
        self._downloads: dict[tuple[str, str], tuple[int, int, str]] = {}
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

    def presigner(self, backend: StorageBackend) -> tuple[S3Presigner, str]:
        """The presigner and bucket of an S3 backend."""
        return self._s3[backend.id]

    def upload(
        self, backend: StorageBackend, key: str, content_type: str, *, expires_s: int
    ) -> UploadUrl:
        """A URL to PUT the bytes of ``key`` to ``backend``."""
        return UploadUrl(self._sign("PUT", backend, key, expires_s), content_type, True)

    def download(self, backend: StorageBackend, key: str, *, expires_s: int) -> str:
        """A URL to GET the bytes of ``key`` from ``backend``, valid for at least
        ``expires_s`` seconds.

        Download URLs are signed as of the start of the current minute, valid for a
        minute more, so that one URL serves the whole minute: listings that ask for
        the same Objects again (players polling a live edge, several viewers) reuse
        it from a cache instead of signing again, and HTTP caches see one URL."""
        window = int(time.time()) // _STABLE_S * _STABLE_S
        cached = self._downloads.get((backend.id, key))
        if cached is not None and cached[0] == window and cached[1] == expires_s:
            return cached[2]
        url = self._sign("GET", backend, key, expires_s + _STABLE_S, at=window)
        if len(self._downloads) >= _DOWNLOADS_CACHED:
            self._downloads.clear()  # crude, but bounded: next minute refills it anyway
        self._downloads[(backend.id, key)] = (window, expires_s, url)
        return url

    async def present(self, objects: Sequence[tuple[str, str, str]]) -> dict[str, int | None]:
        """Of ``objects`` (id, storage id, key), the ids whose bytes are in their
        backend, with their size when the backend tells it: a file check for the local
        backend, HEAD requests (a few at a time) for S3."""
        found: dict[str, int | None] = {}
        remote = []
        for object_id, storage_id, key in objects:
            backend = self._backends.get(storage_id)
            if backend is None:
                continue
            if backend.kind == "s3":
                remote.append((object_id, self._sign("HEAD", backend, key, 60)))
                continue
            size = await asyncio.to_thread(_file_size, self._local.path_of(key))
            if size is not None:
                found[object_id] = size
        if remote:
            limit = asyncio.Semaphore(_HEAD_CONCURRENCY)
            async with httpx.AsyncClient(timeout=_HEAD_TIMEOUT_S) as http:

                async def head(object_id: str, url: str) -> None:
                    async with limit:
                        response = await http.head(url)
                    if response.status_code == 200:
                        length = response.headers.get("content-length", "")
                        found[object_id] = int(length) if length.isdigit() else None
                    elif response.status_code != 404:
                        response.raise_for_status()

                try:
                    await asyncio.gather(*(head(object_id, url) for object_id, url in remote))
                except httpx.HTTPError as error:
                    raise Unavailable(
                        f"could not check the uploaded objects in their store: {error}",
                        reason=Reason.STORAGE_UNAVAILABLE,
                    ) from error
        return found

    async def copy(
        self,
        source: StorageBackend,
        target: StorageBackend,
        key: str,
        *,
        content_type: str | None,
    ) -> None:
        """Copy the bytes of ``key`` from one backend to another, streamed through this
        server (the two may be different stores, so neither can copy by itself)."""
        try:
            async with httpx.AsyncClient(timeout=_COPY_TIMEOUT) as http:
                read = self._sign("GET", source, key, _COPY_URL_S)
                async with http.stream("GET", read) as got:
                    got.raise_for_status()
                    headers = {}
                    if "content-length" in got.headers:
                        headers["Content-Length"] = got.headers["content-length"]
                    if content_type is not None:
                        headers["Content-Type"] = content_type
                    write = self._sign("PUT", target, key, _COPY_URL_S)
                    put = await http.put(write, content=got.aiter_raw(), headers=headers)
                    put.raise_for_status()
        except httpx.HTTPError as error:
            raise Unavailable(
                f"could not copy object bytes from {source.label} to {target.label}: {error}",
                reason=Reason.STORAGE_UNAVAILABLE,
            ) from error

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

    def _sign(
        self,
        method: str,
        backend: StorageBackend,
        key: str,
        expires_s: int,
        *,
        at: float | None = None,
    ) -> str:
        if backend.kind == "s3":
            presigner, bucket = self._s3[backend.id]
            return presigner.url(method, bucket, key, expires_s=expires_s, now=at)
        return self._local.url(method, key, expires_s=expires_s, now=at)


def _file_size(path: Path) -> int | None:
    """The size of a regular file, or None when there is none at ``path``."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None
