"""Allocation of storage: new Objects recorded for a Flow, each with a URL to upload its
bytes to the chosen backend."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from uuid_utils import uuid7

from tams_server.domain.access import AuthClassMap, current_access
from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.domain.flows import MIME_TYPE
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import DEFAULT_ALLOCATION, MAX_ALLOCATION, check_object_id
from tams_server.domain.storage import StorageBackend
from tams_server.objects.urls import ObjectUrls, UploadUrl
from tams_server.store.flows import FlowStore
from tams_server.store.objects import Allocation, ObjectRecordStore

MAX_BATCH_REQUESTS = 100


@dataclass(frozen=True)
class StorageRequest:
    """One request for storage, as the client gave it (None: not given)."""

    flow_id: str = ""
    """The Flow; in a batch, empty or the batch's Flow."""
    storage_id: str | None = None
    content_type: str | None = None
    presigned: bool | None = None
    limit: int | None = None
    object_ids: Sequence[str] = ()
    reissue_pending: bool = False
    """Ids of Objects a Segment allocated before their upload are not taken: their
    upload URLs are issued again."""


Uploads = Iterator[tuple[str, UploadUrl]]
"""The Objects allocated for one request: (object id, URL to upload it to), in the
order the ids were given or made. Each URL is signed as it is read, so that a stream's
first message need not wait for the last URL."""


class StorageAllocation:
    """Allocates Objects on the configured backends, with upload URLs that expire after
    the object timeout; Objects never registered expire with them."""

    def __init__(
        self,
        backends: Sequence[StorageBackend],
        objects: ObjectRecordStore,
        urls: ObjectUrls,
        *,
        object_timeout_s: int,
        flows: FlowStore,
        classes: AuthClassMap | None,
    ) -> None:
        self._flows = flows
        self._classes = classes
        self._backends = tuple(backends)
        self._objects = objects
        self._urls = urls
        self._timeout_s = object_timeout_s

    async def allocate(self, request: StorageRequest) -> tuple[Uploads, int]:
        """Allocate what ``request`` asks for; returns it and when its URLs expire (ns)."""
        check_uuid(request.flow_id, "flow_id")
        checked = [self._check(request, "")]
        [uploads], expires_ns = await self._allocate(
            request.flow_id, checked, reissue_pending=request.reissue_pending
        )
        return uploads, expires_ns

    async def allocate_batch(
        self, flow_id: str, requests: Sequence[StorageRequest]
    ) -> tuple[list[Uploads], int]:
        """Allocate for every request, all or none; returns the uploads of each
        request, in order, and when the URLs expire (ns)."""
        check_uuid(flow_id, "flow_id")
        if not 1 <= len(requests) <= MAX_BATCH_REQUESTS:
            raise InvalidArgument.for_field(
                "requests", f"holds {len(requests)}; give 1 to {MAX_BATCH_REQUESTS}",
                reason=Reason.BATCH_TOO_LARGE if requests else Reason.MISSING_FIELD,
            )  # fmt: skip
        checked = []
        for index, request in enumerate(requests):
            where = f"requests[{index}]."
            if request.flow_id not in ("", flow_id):
                raise InvalidArgument.for_field(f"{where}flow_id", "must be empty or the batch's")
            checked.append(self._check(request, where))
        _check_distinct([allocation for _, allocation in checked])
        return await self._allocate(flow_id, checked)

    async def _allocate(
        self,
        flow_id: str,
        checked: Sequence[tuple[StorageBackend, Allocation]],
        *,
        reissue_pending: bool = False,
    ) -> tuple[list[Uploads], int]:
        """Record the Objects (for a caller the Flow's auth classes let write to it);
        their upload URLs follow. With ``reissue_pending``, the pending Objects among
        them are looked for in their backends first (network I/O, outside the write
        transaction): one whose bytes are there is taken like any other."""
        await self._flows.check_writable(flow_id, current_access(self._classes))
        every_id = [oid for _, allocation in checked for oid in allocation.object_ids]
        reissuable: frozenset[str] | None = None
        if reissue_pending and every_id:
            pending = await self._objects.pending(flow_id, every_id)
            uploaded = await self._urls.present(pending) if pending else {}
            reissuable = frozenset(oid for oid, _, _ in pending if oid not in uploaded)
        groups = await self._objects.allocate_groups(
            flow_id,
            [allocation for _, allocation in checked],
            lifetime_ns=self._timeout_s * 10**9,
            reissuable=reissuable or frozenset(),
        )
        expires_ns = time.time_ns() + self._timeout_s * 10**9
        uploads = [
            self._signed(backend, kind, keyed)
            for (backend, _), (kind, keyed) in zip(checked, groups, strict=True)
        ]
        return uploads, expires_ns

    def _signed(
        self, backend: StorageBackend, kind: str, keyed: Sequence[tuple[str, str]]
    ) -> Uploads:
        for object_id, key in keyed:
            yield object_id, self._urls.upload(backend, key, kind, expires_s=self._timeout_s)

    def _check(self, request: StorageRequest, where: str) -> tuple[StorageBackend, Allocation]:
        """The backend and ids one request asks for; refused fields are named after
        ``where`` (a prefix such as ``requests[2].``)."""
        backend = self._backend(request.storage_id, where)
        if request.content_type is not None and not MIME_TYPE.fullmatch(request.content_type):
            raise InvalidArgument.for_field(
                f"{where}content_type", f"{request.content_type!r} is not a MIME type"
            )
        if request.presigned is False:
            raise InvalidArgument.for_field(
                f"{where}presigned", "this service issues presigned upload URLs only"
            )
        return backend, Allocation(_object_ids(request, where), backend.id, request.content_type)

    def _backend(self, storage_id: str | None, where: str) -> StorageBackend:
        if storage_id is None:
            return next(b for b in self._backends if b.default_storage)
        check_uuid(storage_id, f"{where}storage_id")
        for backend in self._backends:
            if backend.id == storage_id:
                return backend
        raise InvalidArgument.for_field(
            f"{where}storage_id",
            f"no storage backend {storage_id} here",
            reason=Reason.UNKNOWN_STORAGE,
        )


def fresh_object_ids(count: int) -> list[str]:
    """``count`` new Object ids: UUIDv7 (RFC 9562), ordered by time and, from one
    process, strictly increasing. Objects allocated together then sit together in
    every index keyed by Object id (the ``objects`` key, ``segments.object_id``):
    registering 1,000 of them wrote 223 pages to SQLite's log where random (v4) ids
    wrote 918. TAMS makes Object ids plain strings, not its UUIDs of versions 1-5."""
    return [str(uuid7()) for _ in range(count)]


def _object_ids(request: StorageRequest, where: str) -> list[str]:
    """The ids to allocate: the client's (new, distinct, safe as keys) or ``limit``
    fresh ones (``DEFAULT_ALLOCATION`` when neither is given); not both."""
    given = list(request.object_ids)
    if request.limit is not None and given:
        raise InvalidArgument.for_field(f"{where}limit", "give limit or object_ids, not both")
    if request.limit is None and not given:
        return fresh_object_ids(DEFAULT_ALLOCATION)
    if request.limit is not None:
        if not 1 <= request.limit <= MAX_ALLOCATION:
            raise InvalidArgument.for_field(
                f"{where}limit", f"must be 1 to {MAX_ALLOCATION}, got {request.limit}"
            )
        return fresh_object_ids(request.limit)
    if len(given) > MAX_ALLOCATION:
        raise InvalidArgument.for_field(
            f"{where}object_ids",
            f"holds {len(given)}; at most {MAX_ALLOCATION}",
            reason=Reason.BATCH_TOO_LARGE,
        )
    seen: set[str] = set()
    for index, object_id in enumerate(given):
        check_object_id(object_id, f"{where}object_ids[{index}]")
        if object_id in seen:
            raise InvalidArgument.for_field(f"{where}object_ids[{index}]", f"repeats {object_id!r}")
        seen.add(object_id)
    return given


def _check_distinct(allocations: Sequence[Allocation]) -> None:
    """A batch allocates at most MAX_ALLOCATION Objects, each id once."""
    total = sum(len(a.object_ids) for a in allocations)
    if total > MAX_ALLOCATION:
        raise InvalidArgument.for_field(
            "requests", f"ask for {total} objects; at most {MAX_ALLOCATION} in all",
            reason=Reason.BATCH_TOO_LARGE,
        )  # fmt: skip
    seen: set[str] = set()
    for index, allocation in enumerate(allocations):
        for object_id in allocation.object_ids:
            if object_id in seen:
                raise InvalidArgument.for_field(
                    f"requests[{index}].object_ids", f"repeats {object_id!r} of an earlier request"
                )
            seen.add(object_id)
