"""Upload and download URLs of Objects, whichever backend holds them."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from tams_server.domain.errors import Reason, Unavailable
from tams_server.domain.storage import StorageBackend
from tams_server.objects.backend import Backend

# Download URLs are stable for a minute and cached (see ObjectUrls.download).
_STABLE_S = 60
_DOWNLOADS_CACHED = 50_000
_COPY_TIMEOUT = httpx.Timeout(60.0)
_COPY_URL_S = 3600


@dataclass(frozen=True)
class UploadUrl:
    """How to upload one Object: PUT ``url`` with ``content_type``."""

    url: str
    content_type: str
    presigned: bool


class ObjectUrls:
    """Signs URLs for every configured backend (download URLs cached), checks and
    copies bytes: the backends' implementations, reached through their descriptions."""

    def __init__(self, backends: Mapping[str, Backend]) -> None:
        self._backends = backends
        self._downloads: dict[tuple[str, str], tuple[int, int, str]] = {}

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

    def download_epoch(self, expires_s: int) -> tuple[int, int]:
        """What ``download`` URLs depend on besides backend and key: they stay the
        same while this does (the minute they are signed in, and their lifetime)."""
        return int(time.time()) // _STABLE_S, expires_s

    async def present(self, objects: Sequence[tuple[str, str, str]]) -> dict[str, int | None]:
        """Of ``objects`` (id, storage id, key), the ids whose bytes are in their
        backend, with their size when the backend tells it: a file check for the local
        backend, HEAD requests (a few at a time) for S3."""
        by_backend: dict[str, list[tuple[str, str]]] = {}
        for object_id, storage_id, key in objects:
            if storage_id in self._backends:
                by_backend.setdefault(storage_id, []).append((object_id, key))
        found: dict[str, int | None] = {}
        for storage_id, keyed in by_backend.items():
            found.update(await self._backends[storage_id].sizes(keyed))
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
        await self._backends[backend.id].delete(key)

    def _sign(
        self,
        method: str,
        backend: StorageBackend,
        key: str,
        expires_s: int,
        *,
        at: float | None = None,
    ) -> str:
        return self._backends[backend.id].url(method, key, expires_s=expires_s, at=at)
