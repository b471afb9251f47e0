"""tams.v1.SourceService."""

from __future__ import annotations

import grpc

from tams.v1 import sources_pb2, sources_pb2_grpc
from tams_server.convert.sources import source_query_to_domain, source_to_domain, source_to_proto
from tams_server.domain.access import AuthClassMap, current_access
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.ids import check_uuid
from tams_server.domain.principal import principal
from tams_server.domain.sources import validate_source
from tams_server.domain.updates import check_batch, check_update_paths, pick
from tams_server.servicers.attribution import attributed, deleted_by
from tams_server.servicers.tags import edit_tag
from tams_server.store.paging import page_size
from tams_server.store.sources import UPDATABLE_FIELDS, SourceStore

Context = grpc.aio.ServicerContext[object, object]


class SourceServicer(sources_pb2_grpc.SourceServiceServicer):
    """Sources over gRPC."""

    def __init__(self, store: SourceStore, classes: AuthClassMap | None) -> None:
        self._store = store
        self._classes = classes

    async def GetSource(
        self, request: sources_pb2.GetSourceRequest, context: Context
    ) -> sources_pb2.GetSourceResponse:
        check_uuid(request.source_id, "source_id")
        source = await self._store.get(
            request.source_id,
            show_deleted=request.show_deleted,
            access=current_access(self._classes),
        )
        return sources_pb2.GetSourceResponse(source=source_to_proto(source))

    async def ListSources(
        self, request: sources_pb2.ListSourcesRequest, context: Context
    ) -> sources_pb2.ListSourcesResponse:
        for index, collector in enumerate(request.filter.collected_by_ids):
            check_uuid(collector, f"filter.collected_by_ids[{index}]")
        page = await self._store.find(
            source_query_to_domain(request),
            page_size=page_size(request.page_size),
            page_token=request.page_token,
            access=current_access(self._classes),
        )
        return sources_pb2.ListSourcesResponse(
            sources=[source_to_proto(source) for source in page.items],
            next_page_token=page.next_page_token,
            page_size=page.page_size,
        )

    async def CreateSource(
        self, request: sources_pb2.CreateSourceRequest, context: Context
    ) -> sources_pb2.CreateSourceResponse:
        source = attributed(source_to_domain(request.source))
        validate_source(source)
        (created,) = await self._store.create(
            [source], actor=principal(), access=current_access(self._classes)
        )
        return sources_pb2.CreateSourceResponse(source=source_to_proto(created))

    async def BatchCreateSources(
        self, request: sources_pb2.BatchCreateSourcesRequest, context: Context
    ) -> sources_pb2.BatchCreateSourcesResponse:
        sources = [attributed(source_to_domain(message)) for message in request.sources]
        check_batch(sources, [source.id for source in sources], field="sources")
        for index, source in enumerate(sources):
            validate_source(source, path=f"sources[{index}]")
        created = await self._store.create(
            sources, actor=principal(), access=current_access(self._classes)
        )
        return sources_pb2.BatchCreateSourcesResponse(
            sources=[source_to_proto(source) for source in created]
        )

    async def UpdateSource(
        self, request: sources_pb2.UpdateSourceRequest, context: Context
    ) -> sources_pb2.UpdateSourceResponse:
        check_uuid(request.source.id, "source.id")
        paths = check_update_paths(request.update_mask.paths, UPDATABLE_FIELDS)
        given = source_to_domain(request.source)
        if "tags" in paths and "" in given.tags:
            raise InvalidArgument.for_field("source.tags", "tag names must not be empty")
        changes = pick(
            {"label": given.label, "description": given.description, "tags": given.tags}, paths
        )
        source = await self._store.update(
            request.source.id, changes, actor=principal(), access=current_access(self._classes)
        )
        return sources_pb2.UpdateSourceResponse(source=source_to_proto(source))

    async def SetSourceTag(
        self, request: sources_pb2.SetSourceTagRequest, context: Context
    ) -> sources_pb2.SetSourceTagResponse:
        source = await edit_tag(
            self._store,
            current_access(self._classes),
            request.source_id,
            "source_id",
            request.name,
            request.value,
        )
        return sources_pb2.SetSourceTagResponse(source=source_to_proto(source))

    async def DeleteSourceTag(
        self, request: sources_pb2.DeleteSourceTagRequest, context: Context
    ) -> sources_pb2.DeleteSourceTagResponse:
        source = await edit_tag(
            self._store, current_access(self._classes), request.source_id, "source_id", request.name
        )
        return sources_pb2.DeleteSourceTagResponse(source=source_to_proto(source))

    async def DeleteSource(
        self, request: sources_pb2.DeleteSourceRequest, context: Context
    ) -> sources_pb2.DeleteSourceResponse:
        check_uuid(request.source_id, "source_id")
        named = request.deleted_by if request.HasField("deleted_by") else None
        source = await self._store.soft_delete(
            request.source_id,
            deleted_by=deleted_by(named),
            with_flows=request.with_flows,
            access=current_access(self._classes),
        )
        return sources_pb2.DeleteSourceResponse(source=source_to_proto(source))
