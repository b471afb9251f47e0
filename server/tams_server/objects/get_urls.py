"""Which download URLs of an Object one request gets, signed: a URL for every backend
holding a copy (controlled instances) that passes the request's filters, then the
uncontrolled URLs registered with the Object that pass them (TAMS ADR 0023, 0032).

Filters combine with AND. Controlled URLs are presigned (S3 presigned URLs, or the
local backend's HMAC-signed ones); uncontrolled URLs are not, have no backend, and so
pass only when no backend filter is given. Writing the URLs into messages is
``convert.get_urls``'s part.
"""

from __future__ import annotations

from collections.abc import Iterable

from tams_server.domain.objects import UrlFilters
from tams_server.domain.storage import StorageBackend
from tams_server.domain.tags import tag_matches
from tams_server.objects.urls import ObjectUrls


class GetUrlMaker:
    """Signs the controlled URLs of one request: the filters are applied to the
    backends once, so each copy costs a dictionary lookup and a signature."""

    def __init__(
        self,
        urls: ObjectUrls,
        backends: Iterable[StorageBackend],
        filters: UrlFilters,
        *,
        expires_s: int,
    ) -> None:
        self._urls = urls
        self._expires_s = expires_s
        self._backends: dict[str, StorageBackend] = {}
        if filters.presigned is not False:
            self._backends = {b.id: b for b in backends if _backend_passes(b, filters)}
        self.verbose = filters.verbose
        self.labels = filters.labels
        self.uncontrolled_pass = (
            filters.storage_ids is None and not filters.backend_tags and not filters.presigned
        )

    def epoch(self) -> tuple[int, int]:
        """Changes whenever ``signed`` may sign a copy's URL differently."""
        return self._urls.download_epoch(self._expires_s)

    def signs_for(self, storage_id: str) -> bool:
        """Whether the request's filters let URLs of this backend through."""
        return storage_id in self._backends

    def signed(self, storage_id: str, key: str) -> tuple[str, StorageBackend] | None:
        """A signed download URL of the copy under ``key`` on ``storage_id``, and that
        backend; None when the request's filters leave the backend out."""
        backend = self._backends.get(storage_id)
        if backend is None:
            return None
        return self._urls.download(backend, key, expires_s=self._expires_s), backend


def _backend_passes(backend: StorageBackend, filters: UrlFilters) -> bool:
    if filters.labels is not None and backend.label not in filters.labels:
        return False
    if filters.storage_ids is not None and backend.id not in filters.storage_ids:
        return False
    return all(tag_matches(backend.tags, f) for f in filters.backend_tags)
