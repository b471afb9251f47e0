"""tams.v1.ObjectService: Objects and their instances (TAMS ``/objects/{id}``)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from tams.v1 import objects_pb2, objects_pb2_grpc
from tams_server.convert.common import tag_filters_to_domain
from tams_server.convert.get_urls import GetUrlWriter, filters_to_domain
from tams_server.convert.objects import object_to_proto
from tams_server.domain.access import AuthClassMap, current_access
from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.domain.objects import UrlFilters, check_object_id
from tams_server.domain.storage import StorageBackend
from tams_server.objects.get_urls import GetUrlMaker
from tams_server.objects.urls import ObjectUrls
from tams_server.store.object_info import ObjectInfoStore
from tams_server.store.paging import page_size
from tams_server.usecases.objects import ObjectInstances

Context = grpc.aio.ServicerContext[object, object]


class ObjectServicer(objects_pb2_grpc.ObjectServiceServicer):
    """Objects over gRPC."""

    def __init__(
        self,
        store: ObjectInfoStore,
        instances: ObjectInstances,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
        *,
        url_lifetime_s: int,
        classes: AuthClassMap | None,
    ) -> None:
        self._classes = classes
        self._store = store
        self._instances = instances
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
            access=current_access(self._classes),
        )  # fmt: skip
        message = object_to_proto(record, flows.items, self._url_writer(filters), init)
        return objects_pb2.GetObjectResponse(object=message, next_page_token=flows.next_page_token)

    async def AddObjectInstance(
        self, request: objects_pb2.AddObjectInstanceRequest, context: Context
    ) -> objects_pb2.AddObjectInstanceResponse:
        object_id = check_object_id(request.object_id, "object_id")
        if _instance_named(request, "uncontrolled") == "storage_id":
            record, flow_ids, init = await self._instances.add_copy(object_id, request.storage_id)
        else:
            url, label = request.uncontrolled.url, request.uncontrolled.label
            for field, value in (("url", url), ("label", label)):
                if not value:
                    raise InvalidArgument.for_field(
                        f"uncontrolled.{field}", "is required", reason=Reason.MISSING_FIELD
                    )
            record, flow_ids, init = await self._instances.add_uncontrolled(object_id, url, label)
        message = object_to_proto(record, flow_ids, self._url_writer(UrlFilters()), init)
        return objects_pb2.AddObjectInstanceResponse(object=message)

    async def DeleteObjectInstance(
        self, request: objects_pb2.DeleteObjectInstanceRequest, context: Context
    ) -> objects_pb2.DeleteObjectInstanceResponse:
        object_id = check_object_id(request.object_id, "object_id")
        if _instance_named(request, "label") == "storage_id":
            await self._instances.remove_copy(object_id, request.storage_id)
        else:
            if not request.label:
                raise InvalidArgument.for_field("label", "is required", reason=Reason.MISSING_FIELD)
            await self._instances.remove_uncontrolled(object_id, request.label)
        return objects_pb2.DeleteObjectInstanceResponse()

    def _url_writer(self, filters: UrlFilters) -> GetUrlWriter | None:
        if filters.none_wanted:
            return None
        return GetUrlWriter(
            GetUrlMaker(
                self._urls, self._backends.values(), filters, expires_s=self._url_lifetime_s
            )
        )


def _instance_named(
    request: objects_pb2.AddObjectInstanceRequest | objects_pb2.DeleteObjectInstanceRequest,
    other: str,
) -> str:
    """Which way the request names the instance: ``storage_id`` or ``other`` (the
    ``instance`` oneof's other field); INVALID_ARGUMENT when it names none."""
    which = request.WhichOneof("instance")
    if which is None:
        raise InvalidArgument.for_field(
            "instance", f"give storage_id or {other}", reason=Reason.MISSING_FIELD
        )
    return which
