"""tams.v1.StorageService: the configured backends, allocation of Objects with upload
URLs, and multipart uploads."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from tams.v1 import storage_pb2, storage_pb2_grpc
from tams_server.convert.common import tag_filters_to_domain
from tams_server.convert.storage import backend_to_proto
from tams_server.domain.storage import StorageBackend
from tams_server.domain.tags import TagFilter, tag_matches
from tams_server.objects.urls import UploadUrl
from tams_server.store.paging import Pager, PageTokenCodec, fingerprint, page_size
from tams_server.usecases.multipart import MultipartUploads
from tams_server.usecases.storage import StorageAllocation, StorageRequest, Uploads

Context = grpc.aio.ServicerContext[object, object]

ALLOCATION_BATCH = 500


class StorageServicer(storage_pb2_grpc.StorageServiceServicer):
    """Storage over gRPC."""

    def __init__(
        self,
        backends: Sequence[StorageBackend],
        tokens: PageTokenCodec,
        allocation: StorageAllocation,
        multipart: MultipartUploads,
    ) -> None:
        self._backends = tuple(backends)
        self._tokens = tokens
        self._allocation = allocation
        self._multipart = multipart

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
        uploads, expires_ns = await self._allocation.allocate(_storage_request(request))
        expires = _timestamp(expires_ns)
        for batch in _batches(uploads):
            response = storage_pb2.AllocateStorageResponse(expires=expires)
            _add_uploads(response.media_objects, batch)
            yield response

    async def BatchAllocateStorage(
        self, request: storage_pb2.BatchAllocateStorageRequest, context: Context
    ) -> AsyncIterator[storage_pb2.BatchAllocateStorageResponse]:
        allocated, expires_ns = await self._allocation.allocate_batch(
            request.flow_id, [_storage_request(item) for item in request.requests]
        )
        expires = _timestamp(expires_ns)
        for index, uploads in enumerate(allocated):
            for batch in _batches(uploads):
                response = storage_pb2.BatchAllocateStorageResponse(
                    request_index=index, expires=expires
                )
                _add_uploads(response.media_objects, batch)
                yield response

    async def StartMultipartUpload(
        self, request: storage_pb2.StartMultipartUploadRequest, context: Context
    ) -> storage_pb2.StartMultipartUploadResponse:
        upload_id, expires_ns = await self._multipart.start(request.flow_id, request.object_id)
        return storage_pb2.StartMultipartUploadResponse(
            upload_id=upload_id, expires=_timestamp(expires_ns)
        )

    async def GetMultipartPartUrls(
        self, request: storage_pb2.GetMultipartPartUrlsRequest, context: Context
    ) -> storage_pb2.GetMultipartPartUrlsResponse:
        parts = [(part.part_number, part.content_md5) for part in request.parts]
        urls = await self._multipart.part_urls(
            request.upload_id, request.flow_id, request.object_id, parts
        )
        response = storage_pb2.GetMultipartPartUrlsResponse()
        for (number, content_md5), url in zip(parts, urls, strict=True):
            response.parts.add(
                part_number=number,
                put_url=storage_pb2.HttpRequest(url=url, headers={"Content-MD5": content_md5}),
            )
        return response

    async def CompleteMultipartUpload(
        self, request: storage_pb2.CompleteMultipartUploadRequest, context: Context
    ) -> storage_pb2.CompleteMultipartUploadResponse:
        etag = await self._multipart.complete(
            request.upload_id, request.flow_id, request.object_id,
            [(part.part_number, part.etag) for part in request.parts],
        )  # fmt: skip
        return storage_pb2.CompleteMultipartUploadResponse(etag=etag)

    async def AbortMultipartUpload(
        self, request: storage_pb2.AbortMultipartUploadRequest, context: Context
    ) -> storage_pb2.AbortMultipartUploadResponse:
        await self._multipart.abort(request.upload_id, request.flow_id, request.object_id)
        return storage_pb2.AbortMultipartUploadResponse()


def _storage_request(request: storage_pb2.AllocateStorageRequest) -> StorageRequest:
    """One request for storage, its optional fields None when not set."""
    return StorageRequest(
        flow_id=request.flow_id,
        storage_id=request.storage_id if request.HasField("storage_id") else None,
        content_type=request.content_type if request.HasField("content_type") else None,
        presigned=request.presigned if request.HasField("presigned") else None,
        limit=request.limit if request.HasField("limit") else None,
        object_ids=list(request.object_ids),
        reissue_pending=request.reissue_pending,
    )


def _batches(uploads: Uploads) -> Iterator[list[tuple[str, UploadUrl]]]:
    """``uploads`` in lists of ``ALLOCATION_BATCH``, one per response message."""
    while batch := list(itertools.islice(uploads, ALLOCATION_BATCH)):
        yield batch


def _add_uploads(target: Any, uploads: Sequence[tuple[str, UploadUrl]]) -> None:
    """Append an AllocatedObject with its upload URL for each (id, URL)."""
    for object_id, upload in uploads:
        target.add(
            object_id=object_id,
            put_url=storage_pb2.HttpRequest(url=upload.url, content_type=upload.content_type),
            presigned=upload.presigned,
        )


def _timestamp(ns: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(ns)
    return stamp


def _matches(backend: StorageBackend, tag_filter: TagFilter) -> bool:
    return tag_matches(backend.tags, tag_filter)
