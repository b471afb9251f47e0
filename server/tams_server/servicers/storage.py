"""tams.v1.StorageService: the configured backends. Allocation and multipart uploads
are designed in the protos and come with the storage issue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc

from tams.v1 import storage_pb2, storage_pb2_grpc
from tams_server.convert.common import tag_filters_to_domain
from tams_server.convert.storage import backend_to_proto
from tams_server.domain.storage import StorageBackend
from tams_server.domain.tags import TagFilter
from tams_server.store.paging import PageTokenCodec, fingerprint, page_size

Context = grpc.aio.ServicerContext[object, object]


class StorageServicer(storage_pb2_grpc.StorageServiceServicer):
    """Storage over gRPC."""

    def __init__(self, backends: Sequence[StorageBackend], tokens: PageTokenCodec) -> None:
        self._backends = tuple(backends)
        self._tokens = tokens

    async def ListStorageBackends(
        self, request: storage_pb2.ListStorageBackendsRequest, context: Context
    ) -> storage_pb2.ListStorageBackendsResponse:
        filters = tag_filters_to_domain(request.tags)
        chosen = sorted(
            (b for b in self._backends if all(_matches(b, f) for f in filters)),
            key=lambda b: (b.label, b.id),
            reverse=request.reverse_order,
        )
        size = page_size(request.page_size)
        print_ = fingerprint("storage-backends", filters, request.reverse_order)
        if request.page_token:
            label, backend_id = self._tokens.decode(request.page_token, print_)
            after = (str(label), str(backend_id))
            chosen = [
                b for b in chosen
                if ((b.label, b.id) < after if request.reverse_order else (b.label, b.id) > after)
            ]  # fmt: skip
        page = chosen[:size]
        token = ""
        if len(chosen) > size:
            token = self._tokens.encode([page[-1].label, page[-1].id], print_)
        return storage_pb2.ListStorageBackendsResponse(
            storage_backends=[backend_to_proto(b) for b in page],
            next_page_token=token,
            page_size=size,
        )

    def AllocateStorage(
        self, request: storage_pb2.AllocateStorageRequest, context: Context
    ) -> AsyncIterator[storage_pb2.AllocateStorageResponse]:
        raise NotImplementedError

    async def StartMultipartUpload(
        self, request: storage_pb2.StartMultipartUploadRequest, context: Context
    ) -> storage_pb2.StartMultipartUploadResponse:
        raise NotImplementedError

    async def GetMultipartPartUrls(
        self, request: storage_pb2.GetMultipartPartUrlsRequest, context: Context
    ) -> storage_pb2.GetMultipartPartUrlsResponse:
        raise NotImplementedError

    async def CompleteMultipartUpload(
        self, request: storage_pb2.CompleteMultipartUploadRequest, context: Context
    ) -> storage_pb2.CompleteMultipartUploadResponse:
        raise NotImplementedError

    async def AbortMultipartUpload(
        self, request: storage_pb2.AbortMultipartUploadRequest, context: Context
    ) -> storage_pb2.AbortMultipartUploadResponse:
        raise NotImplementedError


def _matches(backend: StorageBackend, tag_filter: TagFilter) -> bool:
    value = backend.tags.get(tag_filter.name)
    if tag_filter.exists is not None and (value is not None) != tag_filter.exists:
        return False
    if tag_filter.values:
        have = {value} if isinstance(value, str) else set(value or ())
        return bool(have & set(tag_filter.values))
    return True
