"""TamsClient: the typed blocking client over tams.v1 (the twin of AsyncTamsClient)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc

from tams.v1 import (
    flow_delete_requests_pb2,
    flows_pb2,
    flows_pb2_grpc,
    objects_pb2,
    segments_pb2,
    segments_pb2_grpc,
    service_info_pb2,
    service_info_pb2_grpc,
    sources_pb2,
    sources_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
)
from tams_client import _content, _uploads
from tams_client import _requests as req
from tams_client._async_client import AsyncTamsClient
from tams_client._errors import error_from_rpc
from tams_client._pagers import Pager
from tams_client._retry import NO_RETRY, RETRYABLE, RetryPolicy
from tams_client._tags import PyTagValue

Response = TypeVar("Response")
Result = TypeVar("Result")


class TamsClient:
    """Talks to a TAMS gRPC server; ``with TamsClient("host:50051") as c``.

    Methods return tams.v1 messages and raise ``TamsClientError`` subclasses. Reads
    and deletes are retried on UNAVAILABLE / DEADLINE_EXCEEDED; creates are not.
    """

    def __init__(
        self,
        target: str,
        *,
        timeout: float | None = 30.0,
        metadata: Sequence[tuple[str, str]] = (),
        channel_options: Sequence[tuple[str, Any]] = (),
        retry: RetryPolicy | None = None,
    ) -> None:
        self._channel = grpc.insecure_channel(target, options=list(channel_options))
        self._target = target
        self._channel_options = tuple(channel_options)
        self._timeout = timeout
        self._metadata = tuple(metadata)
        self._retry = retry or RetryPolicy()
        self._sources = sources_pb2_grpc.SourceServiceStub(self._channel)
        self._flows = flows_pb2_grpc.FlowServiceStub(self._channel)
        self._service = service_info_pb2_grpc.ServiceInfoServiceStub(self._channel)
        self._segments = segments_pb2_grpc.SegmentServiceStub(self._channel)
        self._storage = storage_pb2_grpc.StorageServiceStub(self._channel)

    def __enter__(self) -> TamsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def _call(self, method: Callable[..., Response], request: Any, *, idempotent: bool) -> Response:
        pauses = (self._retry if idempotent else NO_RETRY).pauses()
        while True:
            try:
                return method(request, timeout=self._timeout, metadata=self._metadata)
            except grpc.RpcError as error:
                pause = next(pauses, None) if error.code() in RETRYABLE else None
                if pause is None:
                    raise error_from_rpc(error) from None
            time.sleep(pause)

    # Service

    def get_service(self) -> service_info_pb2.ServiceInfo:
        """The service description (TAMS GET /service)."""
        request = service_info_pb2.GetServiceRequest()
        return (self._call(self._service.GetService, request, idempotent=True)).service

    # Sources

    def get_source(self, source_id: str, *, show_deleted: bool = False) -> sources_pb2.Source:
        """One Source."""
        request = req.get_source(source_id, show_deleted)
        return (self._call(self._sources.GetSource, request, idempotent=True)).source

    def list_sources(
        self,
        *,
        filter: sources_pb2.SourceFilter | None = None,
        sort_by: sources_pb2.SourceSortKey.ValueType = sources_pb2.SOURCE_SORT_KEY_UNSPECIFIED,
        reverse_order: bool = False,
        page_size: int = 0,
        show_deleted: bool = False,
    ) -> Pager[sources_pb2.Source, sources_pb2.ListSourcesResponse]:
        """Every matching Source, fetched page by page as the iteration goes."""
        request = req.list_sources(filter, sort_by, reverse_order, page_size, show_deleted)

        def fetch(token: str) -> sources_pb2.ListSourcesResponse:
            request.page_token = token
            return self._call(self._sources.ListSources, request, idempotent=True)

        return Pager(fetch, lambda page: page.sources)

    def create_source(self, source: sources_pb2.Source) -> sources_pb2.Source:
        """Create a Source (seed guide POST /sources)."""
        request = sources_pb2.CreateSourceRequest(source=source)
        return (self._call(self._sources.CreateSource, request, idempotent=False)).source

    def batch_create_sources(
        self, sources: Sequence[sources_pb2.Source]
    ) -> list[sources_pb2.Source]:
        """Create Sources, all or none."""
        request = sources_pb2.BatchCreateSourcesRequest(sources=sources)
        response = self._call(self._sources.BatchCreateSources, request, idempotent=False)
        return list(response.sources)

    def update_source(self, source: sources_pb2.Source, paths: Sequence[str]) -> sources_pb2.Source:
        """Change the named properties (label, description, tags) to ``source``'s values."""
        request = sources_pb2.UpdateSourceRequest(source=source, update_mask=req.mask(paths))
        return (self._call(self._sources.UpdateSource, request, idempotent=True)).source

    def set_source_tag(self, source_id: str, name: str, value: PyTagValue) -> sources_pb2.Source:
        """Create or replace one tag."""
        request = req.set_source_tag(source_id, name, value)
        return (self._call(self._sources.SetSourceTag, request, idempotent=True)).source

    def delete_source_tag(self, source_id: str, name: str) -> sources_pb2.Source:
        """Delete one tag."""
        request = sources_pb2.DeleteSourceTagRequest(source_id=source_id, name=name)
        return (self._call(self._sources.DeleteSourceTag, request, idempotent=True)).source

    def delete_source(self, source_id: str, *, deleted_by: str | None = None) -> sources_pb2.Source:
        """Soft-delete a Source no Flow renders."""
        request = sources_pb2.DeleteSourceRequest(source_id=source_id, deleted_by=deleted_by)
        return (self._call(self._sources.DeleteSource, request, idempotent=True)).source

    # Flows

    def get_flow(
        self,
        flow_id: str,
        *,
        include_timerange: bool = False,
        timerange: str | None = None,
        show_deleted: bool = False,
    ) -> flows_pb2.Flow:
        """One Flow."""
        request = req.get_flow(flow_id, include_timerange, timerange, show_deleted)
        return (self._call(self._flows.GetFlow, request, idempotent=True)).flow

    def list_flows(
        self,
        *,
        filter: flows_pb2.FlowFilter | None = None,
        sort_by: flows_pb2.FlowSortKey.ValueType = flows_pb2.FLOW_SORT_KEY_UNSPECIFIED,
        reverse_order: bool = False,
        page_size: int = 0,
        show_deleted: bool = False,
    ) -> Pager[flows_pb2.Flow, flows_pb2.ListFlowsResponse]:
        """Every matching Flow, fetched page by page as the iteration goes."""
        request = req.list_flows(filter, sort_by, reverse_order, page_size, show_deleted)

        def fetch(token: str) -> flows_pb2.ListFlowsResponse:
            request.page_token = token
            return self._call(self._flows.ListFlows, request, idempotent=True)

        return Pager(fetch, lambda page: page.flows)

    def create_flow(self, flow: flows_pb2.Flow) -> flows_pb2.Flow:
        """Create a Flow; AlreadyExistsError if its id is taken."""
        request = flows_pb2.CreateFlowRequest(flow=flow)
        return (self._call(self._flows.CreateFlow, request, idempotent=False)).flow

    def put_flow(self, flow: flows_pb2.Flow) -> tuple[flows_pb2.Flow, bool]:
        """Create or replace a whole Flow (TAMS PUT); True when it was created."""
        request = flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True)
        response = self._call(self._flows.UpdateFlow, request, idempotent=True)
        return response.flow, response.created

    def batch_create_flows(self, flows: Sequence[flows_pb2.Flow]) -> list[flows_pb2.Flow]:
        """Create Flows, all or none."""
        request = flows_pb2.BatchCreateFlowsRequest(flows=flows)
        response = self._call(self._flows.BatchCreateFlows, request, idempotent=False)
        return list(response.flows)

    def update_flow(self, flow: flows_pb2.Flow, paths: Sequence[str]) -> flows_pb2.Flow:
        """Change the named properties to ``flow``'s values (unset = delete)."""
        request = flows_pb2.UpdateFlowRequest(flow=flow, update_mask=req.mask(paths))
        return (self._call(self._flows.UpdateFlow, request, idempotent=True)).flow

    def set_flow_tag(self, flow_id: str, name: str, value: PyTagValue) -> flows_pb2.Flow:
        """Create or replace one tag."""
        request = req.set_flow_tag(flow_id, name, value)
        return (self._call(self._flows.SetFlowTag, request, idempotent=True)).flow

    def delete_flow_tag(self, flow_id: str, name: str) -> flows_pb2.Flow:
        """Delete one tag."""
        request = flows_pb2.DeleteFlowTagRequest(flow_id=flow_id, name=name)
        return (self._call(self._flows.DeleteFlowTag, request, idempotent=True)).flow

    def delete_flow(
        self, flow_id: str, *, soft_delete: bool = False, deleted_by: str | None = None
    ) -> flow_delete_requests_pb2.FlowDeleteRequest | None:
        """Delete a Flow; returns the delete request when it continues in the background."""
        request = req.delete_flow(flow_id, soft_delete, deleted_by)
        response = self._call(self._flows.DeleteFlow, request, idempotent=True)
        return response.delete_request if response.HasField("delete_request") else None

    # Segments

    def list_segments(
        self,
        flow_id: str,
        *,
        timerange: str | None = None,
        object_id: str | None = None,
        reverse_order: bool = False,
        limit: int = 0,
        page_size: int = 0,
        include_object_timerange: bool = False,
        get_url_options: objects_pb2.GetUrlOptions | None = None,
    ) -> Iterator[segments_pb2.Segment]:
        """Every Segment overlapping ``timerange`` (all time by default), streamed."""
        request = req.stream_segments(
            flow_id, timerange, object_id, reverse_order, limit, page_size,
            include_object_timerange, get_url_options,
        )  # fmt: skip
        try:
            for page in self._segments.StreamSegments(request, metadata=self._metadata):
                yield from page.segments
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None

    def register_segments(
        self, flow_id: str, segments: Sequence[segments_pb2.SegmentPost]
    ) -> segments_pb2.RegisterSegmentsResponse:
        """Register Segments; those refused come back in ``failed_segments``."""
        request = segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=segments)
        return self._call(self._segments.RegisterSegments, request, idempotent=False)

    def stream_register_segments(
        self,
        flow_id: str,
        segments: Iterable[segments_pb2.SegmentPost],
        *,
        batch_size: int = 500,
    ) -> segments_pb2.StreamRegisterSegmentsResponse:
        """Register a long run of Segments over one client stream."""
        try:
            return self._segments.StreamRegisterSegments(
                req.sync_segment_batches(flow_id, segments, batch_size),
                metadata=self._metadata,
            )
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None

    def delete_segments(
        self, flow_id: str, *, timerange: str | None = None, object_id: str | None = None
    ) -> segments_pb2.DeleteSegmentsResponse:
        """Delete the Segments ``timerange`` covers (all by default)."""
        request = req.delete_segments(flow_id, timerange, object_id)
        return self._call(self._segments.DeleteSegments, request, idempotent=True)

    # Storage and uploads: the HTTP side is asyncio (httpx) whichever client calls it,
    # so these run AsyncTamsClient's in a private event loop.

    def allocate_storage(
        self,
        flow_id: str,
        *,
        count: int | None = None,
        object_ids: Sequence[str] = (),
        storage_id: str | None = None,
        content_type: str | None = None,
    ) -> list[storage_pb2.AllocatedObject]:
        """See ``AsyncTamsClient.allocate_storage``."""
        request = req.allocate_storage(flow_id, count, object_ids, storage_id, content_type)
        try:
            stream = self._storage.AllocateStorage(
                request, timeout=self._timeout, metadata=self._metadata
            )
            return [item for message in stream for item in message.media_objects]
        except grpc.RpcError as error:
            raise error_from_rpc(error) from None

    def upload_segments(
        self,
        flow_id: str,
        segments: Iterable[_uploads.MediaSegment],
        *,
        concurrency: int = 8,
        batch_size: int = 100,
        progress: _uploads.ProgressCallback | None = None,
    ) -> _uploads.UploadResult:
        """See ``AsyncTamsClient.upload_segments``."""

        async def work(client: AsyncTamsClient) -> _uploads.UploadResult:
            return await client.upload_segments(
                flow_id, segments, concurrency=concurrency, batch_size=batch_size,
                progress=progress,
            )  # fmt: skip

        return self._run(work)

    def upload_object(
        self,
        flow_id: str,
        content: _content.Content,
        *,
        part_size: int = 8 * _content.MIB,
        concurrency: int = 4,
        content_type: str | None = None,
        progress: _uploads.ProgressCallback | None = None,
    ) -> str:
        """See ``AsyncTamsClient.upload_object``."""

        async def work(client: AsyncTamsClient) -> str:
            return await client.upload_object(
                flow_id, content, part_size=part_size, concurrency=concurrency,
                content_type=content_type, progress=progress,
            )  # fmt: skip

        return self._run(work)

    def _run(self, work: Callable[[AsyncTamsClient], Awaitable[Result]]) -> Result:
        async def main() -> Result:
            async with AsyncTamsClient(
                self._target, timeout=self._timeout, metadata=self._metadata,
                channel_options=self._channel_options, retry=self._retry,
            ) as client:  # fmt: skip
                return await work(client)

        return asyncio.run(main())
