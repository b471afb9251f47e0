"""tams.v1.StorageService: the configured backends and allocation of Objects with
upload URLs; multipart calls go to ``servicers.multipart``."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from tams.v1 import storage_pb2, storage_pb2_grpc
from tams_server.convert.common import tag_filters_to_domain
from tams_server.convert.storage import backend_to_proto
from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.domain.flows import MIME_TYPE
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import MAX_ALLOCATION, check_object_id
from tams_server.domain.storage import StorageBackend
from tams_server.domain.tags import TagFilter, tag_matches
from tams_server.objects.urls import ObjectUrls
from tams_server.servicers.multipart import MultipartCalls
from tams_server.store.objects import Allocation, ObjectRecordStore
from tams_server.store.paging import Pager, PageTokenCodec, fingerprint, page_size

Context = grpc.aio.ServicerContext[object, object]

ALLOCATION_BATCH = 500
MAX_BATCH_REQUESTS = 100


class StorageServicer(storage_pb2_grpc.StorageServiceServicer):
    """Storage over gRPC."""

    def __init__(
        self,
        backends: Sequence[StorageBackend],
        tokens: PageTokenCodec,
        objects: ObjectRecordStore,
        urls: ObjectUrls,
        multipart: MultipartCalls,
        *,
        object_timeout_s: int,
    ) -> None:
        self._multipart = multipart
        self._backends = tuple(backends)
        self._tokens = tokens
        self._objects = objects
        self._urls = urls
        self._timeout_s = object_timeout_s

    async def ListStorageBackends(
        self, request: storage_pb2.ListStorageBackendsRequest, context: Context
    ) -> storage_pb2.ListStorageBackendsResponse:
        filters = tag_filters_to_domain(request.tags)
        chosen = sorted(
            (b for b in self._backends if all(_matches(b, f) for f in filters)),
            key=lambda b: (b.label, b.id),
            reverse=request.reverse_order,
        )
        pager = Pager(
            self._tokens,
            fingerprint("storage-backends", filters, request.reverse_order),
            page_size(request.page_size),
        )
        after = pager.resume(request.page_token)
        if after is not None:
            last = tuple(str(part) for part in after)
            chosen = [
                b for b in chosen
                if ((b.label, b.id) < last if request.reverse_order else (b.label, b.id) > last)
            ]  # fmt: skip
        page, token = pager.cut(chosen[: pager.limit], lambda b: [b.label, b.id])
        return storage_pb2.ListStorageBackendsResponse(
            storage_backends=[backend_to_proto(b) for b in page],
            next_page_token=token,
            page_size=pager.size,
        )

    async def AllocateStorage(
        self, request: storage_pb2.AllocateStorageRequest, context: Context
    ) -> AsyncIterator[storage_pb2.AllocateStorageResponse]:
        check_uuid(request.flow_id, "flow_id")
        backend, allocation = self._allocation(request, "")
        [(kind, keyed)] = await self._objects.allocate_groups(
            request.flow_id, [allocation], lifetime_ns=self._timeout_s * 10**9
        )
        expires = self._expiry()
        for first in range(0, len(keyed), ALLOCATION_BATCH):
            response = storage_pb2.AllocateStorageResponse(expires=expires)
            batch = keyed[first : first + ALLOCATION_BATCH]
            self._add_uploads(response.media_objects, backend, kind, batch)
            yield response

    async def BatchAllocateStorage(
        self, request: storage_pb2.BatchAllocateStorageRequest, context: Context
    ) -> AsyncIterator[storage_pb2.BatchAllocateStorageResponse]:
        check_uuid(request.flow_id, "flow_id")
        if not 1 <= len(request.requests) <= MAX_BATCH_REQUESTS:
            raise InvalidArgument.for_field(
                "requests", f"holds {len(request.requests)}; give 1 to {MAX_BATCH_REQUESTS}",
                reason=Reason.BATCH_TOO_LARGE if request.requests else Reason.MISSING_FIELD,
            )  # fmt: skip
        checked = []
        for index, item in enumerate(request.requests):
            where = f"requests[{index}]."
            if item.flow_id not in ("", request.flow_id):
                raise InvalidArgument.for_field(f"{where}flow_id", "must be empty or the batch's")
            checked.append(self._allocation(item, where))
        _check_distinct([allocation for _, allocation in checked])
        allocated = await self._objects.allocate_groups(
            request.flow_id, [a for _, a in checked], lifetime_ns=self._timeout_s * 10**9
        )
        expires = self._expiry()
        for index, ((backend, _), (kind, keyed)) in enumerate(zip(checked, allocated, strict=True)):
            for first in range(0, len(keyed), ALLOCATION_BATCH):
                response = storage_pb2.BatchAllocateStorageResponse(
                    request_index=index, expires=expires
                )
                batch = keyed[first : first + ALLOCATION_BATCH]
                self._add_uploads(response.media_objects, backend, kind, batch)
                yield response

    def _allocation(
        self, request: storage_pb2.AllocateStorageRequest, where: str
    ) -> tuple[StorageBackend, Allocation]:
        """The backend and ids one allocation request asks for; refused fields are
        named after ``where`` (a prefix such as ``requests[2].``)."""
        backend = self._backend(request, where)
        if request.HasField("content_type") and not MIME_TYPE.fullmatch(request.content_type):
            raise InvalidArgument.for_field(
                f"{where}content_type", f"{request.content_type!r} is not a MIME type"
            )
        if request.HasField("presigned") and not request.presigned:
            raise InvalidArgument.for_field(
                f"{where}presigned", "this service issues presigned upload URLs only"
            )
        content_type = request.content_type if request.HasField("content_type") else None
        return backend, Allocation(_object_ids(request, where), backend.id, content_type)

    def _add_uploads(
        self, target: Any, backend: StorageBackend, kind: str, keyed: Sequence[tuple[str, str]]
    ) -> None:
        """Append an AllocatedObject with its upload URL for each (id, key)."""
        for object_id, key in keyed:
            upload = self._urls.upload(backend, key, kind, expires_s=self._timeout_s)
            target.add(
                object_id=object_id,
                put_url=storage_pb2.HttpRequest(url=upload.url, content_type=kind),
                presigned=upload.presigned,
            )

    def _expiry(self) -> timestamp_pb2.Timestamp:
        expires = timestamp_pb2.Timestamp()
        expires.FromNanoseconds(time.time_ns() + self._timeout_s * 10**9)
        return expires

    def _backend(self, request: storage_pb2.AllocateStorageRequest, where: str) -> StorageBackend:
        if not request.HasField("storage_id"):
            return next(b for b in self._backends if b.default_storage)
        check_uuid(request.storage_id, f"{where}storage_id")
        for backend in self._backends:
            if backend.id == request.storage_id:
                return backend
        raise InvalidArgument.for_field(
            f"{where}storage_id",
            f"no storage backend {request.storage_id} here",
            reason=Reason.UNKNOWN_STORAGE,
        )

    async def StartMultipartUpload(
        self, request: storage_pb2.StartMultipartUploadRequest, context: Context
    ) -> storage_pb2.StartMultipartUploadResponse:
        return await self._multipart.start(request)

    async def GetMultipartPartUrls(
        self, request: storage_pb2.GetMultipartPartUrlsRequest, context: Context
    ) -> storage_pb2.GetMultipartPartUrlsResponse:
        return await self._multipart.part_urls(request)

    async def CompleteMultipartUpload(
        self, request: storage_pb2.CompleteMultipartUploadRequest, context: Context
    ) -> storage_pb2.CompleteMultipartUploadResponse:
        return await self._multipart.complete(request)

    async def AbortMultipartUpload(
        self, request: storage_pb2.AbortMultipartUploadRequest, context: Context
    ) -> storage_pb2.AbortMultipartUploadResponse:
        return await self._multipart.abort(request)


def _object_ids(request: storage_pb2.AllocateStorageRequest, where: str) -> list[str]:
    """The ids to allocate: the client's (new, distinct, safe as keys) or ``limit``
    fresh ones; exactly one of the two must be given."""
    given = list(request.object_ids)
    if request.HasField("limit") and given:
        raise InvalidArgument.for_field(f"{where}limit", "give limit or object_ids, not both")
    if not request.HasField("limit") and not given:
        raise InvalidArgument.for_field(
            f"{where}limit", "give limit (new ids) or object_ids", reason=Reason.MISSING_FIELD
        )
    if request.HasField("limit"):
        if not 1 <= request.limit <= MAX_ALLOCATION:
            raise InvalidArgument.for_field(
                f"{where}limit", f"must be 1 to {MAX_ALLOCATION}, got {request.limit}"
            )
        return [str(uuid.uuid4()) for _ in range(request.limit)]
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


def _matches(backend: StorageBackend, tag_filter: TagFilter) -> bool:
    return tag_matches(backend.tags, tag_filter)
