"""tams.v1.ObjectService: Objects and their instances (TAMS ``/objects/{id}``)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from tams.v1 import objects_pb2, objects_pb2_grpc
from tams_server.convert.common import tag_filters_to_domain
from tams_server.convert.get_urls import GetUrlWriter, filters_to_domain
from tams_server.convert.objects import object_to_proto
from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import UrlFilters, check_object_id
from tams_server.domain.storage import StorageBackend
from tams_server.objects.get_urls import GetUrlMaker
from tams_server.objects.urls import ObjectUrls
from tams_server.store.object_info import ObjectInfoStore
from tams_server.store.paging import page_size

Context = grpc.aio.ServicerContext[object, object]


class ObjectServicer(objects_pb2_grpc.ObjectServiceServicer):
    """Objects over gRPC."""

    def __init__(
        self,
        store: ObjectInfoStore,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
        *,
        url_lifetime_s: int,
    ) -> None:
        self._store = store
        self._urls = urls
        self._backends = {backend.id: backend for backend in backends}
        self._url_lifetime_s = url_lifetime_s

    async def GetObject(
        self, request: objects_pb2.GetObjectRequest, context: Context
    ) -> objects_pb2.GetObjectResponse:
        check_object_id(request.object_id, "object_id")
        filters = filters_to_domain(request.get_url_options, "get_url_options")
        flow_filters = tag_filters_to_domain(request.flow_tags)
        record, flows, init = await self._store.get(
            request.object_id, flow_filters=flow_filters,
            page_size=page_size(request.page_size), page_token=request.page_token,
        )  # fmt: skip
        message = object_to_proto(record, flows.items, self._url_writer(filters), init)
        return objects_pb2.GetObjectResponse(object=message, next_page_token=flows.next_page_token)

    async def AddObjectInstance(
        self, request: objects_pb2.AddObjectInstanceRequest, context: Context
    ) -> objects_pb2.AddObjectInstanceResponse:
        object_id = check_object_id(request.object_id, "object_id")
        which = request.WhichOneof("instance")
        if which == "uncontrolled":
            url, label = request.uncontrolled.url, request.uncontrolled.label
            for field, value in (("url", url), ("label", label)):
                if not value:
                    raise InvalidArgument.for_field(
                        f"uncontrolled.{field}", "is required", reason=Reason.MISSING_FIELD
                    )
            if any(b.label == label for b in self._backends.values()):
                raise InvalidArgument.for_field(
                    "uncontrolled.label",
                    f"{label!r} is the label of a storage backend; choose another",
                )
            await self._store.add_uncontrolled(object_id, url, label)
        elif which == "storage_id":
            target = self._backend(request.storage_id)
            source_id, key, content_type = await self._store.check_copy(object_id, target.id)
            await self._urls.copy(self._backends[source_id], target, key, content_type=content_type)
            try:
                await self._store.add_copy(object_id, target.id, key)
            except BaseException:
                await self._urls.delete(target, key)  # leave no stray copy behind
                raise
        else:
            raise InvalidArgument.for_field(
                "instance", "give storage_id or uncontrolled", reason=Reason.MISSING_FIELD
            )
        record, flows, init = await self._store.get(object_id)
        message = object_to_proto(record, flows.items, self._url_writer(UrlFilters()), init)
        return objects_pb2.AddObjectInstanceResponse(object=message)

    async def DeleteObjectInstance(
        self, request: objects_pb2.DeleteObjectInstanceRequest, context: Context
    ) -> objects_pb2.DeleteObjectInstanceResponse:
        object_id = check_object_id(request.object_id, "object_id")
        which = request.WhichOneof("instance")
        if which == "label":
            if not request.label:
                raise InvalidArgument.for_field("label", "is required", reason=Reason.MISSING_FIELD)
            await self._store.remove(object_id, label=request.label)
        elif which == "storage_id":
            backend = self._backend(request.storage_id)
            removed = await self._store.remove(object_id, storage_id=backend.id)
            if removed is not None:
                await self._urls.delete(backend, removed[1])
        else:
            raise InvalidArgument.for_field(
                "instance", "give storage_id or label", reason=Reason.MISSING_FIELD
            )
        return objects_pb2.DeleteObjectInstanceResponse()

    def _backend(self, storage_id: str) -> StorageBackend:
        check_uuid(storage_id, "storage_id")
        backend = self._backends.get(storage_id)
        if backend is None:
            raise InvalidArgument.for_field(
                "storage_id", f"no storage backend {storage_id} here", reason=Reason.UNKNOWN_STORAGE
            )
        return backend

    def _url_writer(self, filters: UrlFilters) -> GetUrlWriter | None:
        if filters.none_wanted:
            return None
        return GetUrlWriter(
            GetUrlMaker(
                self._urls, self._backends.values(), filters, expires_s=self._url_lifetime_s
            )
        )
