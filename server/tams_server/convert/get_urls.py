"""``get_urls`` of Segments and Objects: a signed URL for every backend holding a copy
(controlled instances), then the uncontrolled URLs registered with the Object, kept or
dropped as the request's filters say (TAMS ``accept_get_urls``, ``accept_storage_ids``,
``presigned``, ``verbose_storage``, ``storage_backend_tag.*``; ADR 0023, 0032).

Filters combine with AND. Controlled URLs are presigned (S3 presigned URLs, or the
local backend's HMAC-signed ones); uncontrolled URLs are not, have no backend, and so
pass only when no backend filter is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tams.v1 import objects_pb2
from tams_server.convert.common import tag_filters_to_domain
from tams_server.convert.storage import backend_to_proto
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import ObjectLocation
from tams_server.domain.storage import StorageBackend
from tams_server.domain.tags import TagFilter, tag_matches
from tams_server.objects.urls import ObjectUrls


@dataclass(frozen=True)
class UrlFilters:
    """What a request lets through. ``labels``/``storage_ids`` None: no filter."""

    labels: frozenset[str] | None = None
    storage_ids: frozenset[str] | None = None
    presigned: bool | None = None
    verbose: bool = False
    backend_tags: tuple[TagFilter, ...] = ()

    @property
    def none_wanted(self) -> bool:
        """``accept_get_urls=`` (given, empty): no URLs at all, so none are signed."""
        return self.labels is not None and not self.labels


def filters_to_domain(message: objects_pb2.GetUrlOptions, field: str) -> UrlFilters:
    """The filters of a request; storage ids must be UUIDs."""
    storage_ids = None
    if message.accept_storage_ids:
        storage_ids = frozenset(
            check_uuid(sid, f"{field}.accept_storage_ids[{i}]")
            for i, sid in enumerate(message.accept_storage_ids)
        )
    return UrlFilters(
        labels=frozenset(message.accept_get_urls) if message.accept_get_urls_set else None,
        storage_ids=storage_ids,
        presigned=message.presigned if message.HasField("presigned") else None,
        verbose=message.verbose_storage,
        backend_tags=tag_filters_to_domain(message.storage_backend_tags),
    )


class GetUrlMaker:
    """Builds the ``get_urls`` of one request: filters are applied to the backends
    once, so each Object costs a dictionary lookup and a signature per URL."""

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
        self._backends: dict[str, tuple[StorageBackend, dict[str, Any]]] = {}
        if filters.presigned is not False:
            for backend in backends:
                if _backend_passes(backend, filters):
                    self._backends[backend.id] = (backend, _shape(backend, filters.verbose))
        self._uncontrolled_pass = (
            filters.storage_ids is None and not filters.backend_tags and not filters.presigned
        )
        self._labels = filters.labels
        self._verbose = filters.verbose

    def fill(self, target: Any, location: ObjectLocation | None) -> None:
        """Append the URLs of an Object to a repeated GetUrl field, in order of
        preference: its first copy, further copies, uncontrolled URLs."""
        if location is not None:
            self.add(
                target, location.storage_id, location.storage_key, location.copies,
                location.uncontrolled,
            )  # fmt: skip

    def add(
        self,
        target: Any,
        storage_id: str | None,
        key: str | None,
        copies: Sequence[tuple[str, str]],
        uncontrolled: Sequence[dict[str, str]],
    ) -> None:
        """``fill`` from the parts of a location, as a listing row holds them."""
        if storage_id is not None and key is not None:
            # _add_controlled inlined: this runs for every Segment of a listing.
            chosen = self._backends.get(storage_id)
            if chosen is not None:
                backend, shape = chosen
                url = self._urls.download(backend, key, expires_s=self._expires_s)
                if self._verbose:
                    target.add(url=url, **shape)
                else:
                    target.add(url=url, presigned=True, label=backend.label)
        for copy_id, copy_key in copies:
            self._add_controlled(target, copy_id, copy_key)
        if uncontrolled and self._uncontrolled_pass:
            for item in uncontrolled:
                if self._labels is None or item["label"] in self._labels:
                    url = target.add(url=item["url"], presigned=False, label=item["label"])
                    if self._verbose:
                        url.controlled = False

    def _add_controlled(self, target: Any, storage_id: str, key: str) -> None:
        chosen = self._backends.get(storage_id)
        if chosen is None:
            return
        backend, shape = chosen
        url = self._urls.download(backend, key, expires_s=self._expires_s)
        if self._verbose:
            target.add(url=url, **shape)
        else:  # the common case, without building keyword arguments
            target.add(url=url, presigned=True, label=backend.label)


def _backend_passes(backend: StorageBackend, filters: UrlFilters) -> bool:
    if filters.labels is not None and backend.label not in filters.labels:
        return False
    if filters.storage_ids is not None and backend.id not in filters.storage_ids:
        return False
    return all(tag_matches(backend.tags, f) for f in filters.backend_tags)


def _shape(backend: StorageBackend, verbose: bool) -> dict[str, Any]:
    """The fields every URL of ``backend`` carries besides the URL itself."""
    shape: dict[str, Any] = {"presigned": True, "label": backend.label}
    if verbose:
        described = backend_to_proto(backend)
        shape.update(
            controlled=True,
            storage_id=backend.id,
            store_type=backend.store_type,
            provider=backend.provider,
            store_product=backend.store_product,
            tags=dict(described.tags),
        )
        if backend.region is not None:
            shape["region"] = backend.region
        if backend.availability_zone is not None:
            shape["availability_zone"] = backend.availability_zone
    return shape
