"""``get_urls`` of Segments and Objects into messages: the request's filters read from
its ``GetUrlOptions``, and the URLs a signer made (``objects.get_urls``) written in
order of preference: the Object's first copy, its further copies, then its
uncontrolled URLs."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol

from tams.v1 import objects_pb2, segments_pb2
from tams_server.convert.common import tag_filters_to_domain
from tams_server.convert.storage import backend_to_proto
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import ObjectLocation, UrlFilters
from tams_server.domain.storage import StorageBackend


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


class UrlSigner(Protocol):
    """What signs one request's controlled URLs and says which uncontrolled ones pass
    (``objects.get_urls.GetUrlMaker``)."""

    verbose: bool
    labels: frozenset[str] | None
    uncontrolled_pass: bool

    def signed(self, storage_id: str, key: str) -> tuple[str, StorageBackend] | None: ...

    def signs_for(self, storage_id: str) -> bool: ...

    def epoch(self) -> Hashable: ...


# Writes a listed Segment's get_urls from its row: storage id, key, uncontrolled URLs.
SegmentUrls = Callable[
    [segments_pb2.Segment, str | None, str | None, Sequence[dict[str, str]]], None
]
_FRAGMENTS_CACHED = 20_000


class UrlFragments:
    """Listed Segments' presigned URLs, each as a serialized Segment holding only that
    GetUrl, kept across the requests of one server: merged into each Segment that
    lists the Object again while its URL stays the same. Merging bytes costs a
    quarter of building the GetUrl field by field, per Segment of every stream with
    URLs. Only the signer's current epoch is kept (URLs of another are never written
    again), and at most ``_FRAGMENTS_CACHED`` for each backend and verbosity."""

    def __init__(self) -> None:
        self._epoch: Hashable = None
        self._kept: dict[tuple[bool, str], dict[str, bytes]] = {}

    def of(self, epoch: Hashable, verbose: bool, storage_id: str) -> dict[str, bytes]:
        """The fragments of one backend's copies by key, as written for ``verbose``
        requests or not, in ``epoch``."""
        if epoch != self._epoch:
            self._kept = {}
            self._epoch = epoch
        return self._kept.setdefault((verbose, storage_id), {})


_UNSEEN: dict[str, bytes] = {}  # a backend not met yet in a page (compared by identity)


class GetUrlWriter:
    """Writes the ``get_urls`` of one request's Objects into repeated GetUrl fields."""

    def __init__(self, signer: UrlSigner, fragments: UrlFragments | None = None) -> None:
        """``fragments``: the server's, so that requests share them (default: this
        writer's own)."""
        self._signer = signer
        self._fragments = fragments or UrlFragments()
        self._signed = signer.signed
        self._verbose = signer.verbose
        self._labels = signer.labels
        self._uncontrolled_pass = signer.uncontrolled_pass
        self._shapes: dict[str, dict[str, Any]] = {}

    def fill(self, target: Any, location: ObjectLocation | None) -> None:
        """Append the URLs of an Object to a repeated GetUrl field."""
        if location is None:
            return
        if location.storage_id is not None and location.storage_key is not None:
            self._add_controlled(target, location.storage_id, location.storage_key)
        for copy_id, copy_key in location.copies:
            self._add_controlled(target, copy_id, copy_key)
        self._add_uncontrolled(target, location.uncontrolled)

    def for_segments(self) -> SegmentUrls:
        """Writes the ``get_urls`` of listed Segments whose rows say where their Object
        is, all of it (one copy, and its uncontrolled URLs): ``fill`` for the case that
        runs for every Segment of a listing, each copy's URL merged in as cached
        bytes. Take one for each page: the URLs it writes are those of its epoch."""
        epoch = self._signer.epoch()
        by_backend: dict[str, dict[str, bytes] | None] = {}  # None: filtered out
        uncontrolled_pass = self._uncontrolled_pass

        def write(
            segment: segments_pb2.Segment,
            storage_id: str | None,
            key: str | None,
            uncontrolled: Sequence[dict[str, str]],
        ) -> None:
            if storage_id is not None and key is not None:
                fragments = by_backend.get(storage_id, _UNSEEN)
                if fragments is _UNSEEN:
                    fragments = by_backend[storage_id] = self._fragments_of(epoch, storage_id)
                if fragments is not None:
                    fragment = fragments.get(key)
                    if fragment is None:
                        fragment = self._fragment(fragments, storage_id, key)
                    segment.MergeFromString(fragment)
            if uncontrolled and uncontrolled_pass:  # else get_urls is not even looked up
                self._add_uncontrolled(segment.get_urls, uncontrolled)

        return write

    def _fragments_of(self, epoch: Hashable, storage_id: str) -> dict[str, bytes] | None:
        """The shared fragments of a backend; None when the request's filters leave
        it out (that is the request's own answer, never shared)."""
        if not self._signer.signs_for(storage_id):
            return None
        return self._fragments.of(epoch, self._verbose, storage_id)

    def _fragment(self, fragments: dict[str, bytes], storage_id: str, key: str) -> bytes:
        """The serialized GetUrl of the copy under ``key`` on ``storage_id`` in a
        Segment, kept in ``fragments``."""
        holder = segments_pb2.Segment()
        self._add_controlled(holder.get_urls, storage_id, key)
        fragment = holder.SerializeToString()
        if len(fragments) >= _FRAGMENTS_CACHED:
            fragments.clear()  # bounded: a listing of more Objects signs some again
        fragments[key] = fragment
        return fragment

    def _add_uncontrolled(self, target: Any, uncontrolled: Sequence[dict[str, str]]) -> None:
        if uncontrolled and self._uncontrolled_pass:
            for item in uncontrolled:
                if self._labels is None or item["label"] in self._labels:
                    url = target.add(url=item["url"], presigned=False, label=item["label"])
                    if self._verbose:
                        url.controlled = False

    def _add_controlled(self, target: Any, storage_id: str, key: str) -> None:
        made = self._signed(storage_id, key)
        if made is not None:
            self._add_url(target, *made)

    def _add_url(self, target: Any, url: str, backend: StorageBackend) -> None:
        if self._verbose:
            target.add(url=url, **self._shape(backend))
        else:
            target.add(url=url, presigned=True, label=backend.label)

    def _shape(self, backend: StorageBackend) -> dict[str, Any]:
        """The fields every verbose URL of ``backend`` carries besides the URL."""
        shape = self._shapes.get(backend.id)
        if shape is None:
            shape = self._shapes[backend.id] = _verbose_shape(backend)
        return shape


def _verbose_shape(backend: StorageBackend) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "presigned": True,
        "label": backend.label,
        "controlled": True,
        "storage_id": backend.id,
        "store_type": backend.store_type,
        "provider": backend.provider,
        "store_product": backend.store_product,
        "tags": dict(backend_to_proto(backend).tags),
    }
    if backend.region is not None:
        shape["region"] = backend.region
    if backend.availability_zone is not None:
        shape["availability_zone"] = backend.availability_zone
    return shape
