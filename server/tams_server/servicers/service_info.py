"""tams.v1.ServiceInfoService (profiles are not implemented yet)."""

from __future__ import annotations

from importlib import metadata

import grpc

from tams.v1 import service_info_pb2, service_info_pb2_grpc
from tams_server.store.service_info import ServiceInfoStore

Context = grpc.aio.ServicerContext[object, object]

SERVICE_TYPE = "urn:x-tams:service:tams-grpc"
API_VERSION = "8.2"
MIN_OBJECT_TIMEOUT = "600:0"


def _service_version() -> str:
    try:
        return metadata.version("tams-grpc")
    except metadata.PackageNotFoundError:
        return "unknown"


class ServiceInfoServicer(service_info_pb2_grpc.ServiceInfoServiceServicer):
    """The service's own description."""

    def __init__(self, store: ServiceInfoStore) -> None:
        self._store = store
        self._version = _service_version()

    async def GetService(
        self, request: service_info_pb2.GetServiceRequest, context: Context
    ) -> service_info_pb2.GetServiceResponse:
        return service_info_pb2.GetServiceResponse(service=await self._describe())

    async def UpdateService(
        self, request: service_info_pb2.UpdateServiceRequest, context: Context
    ) -> service_info_pb2.UpdateServiceResponse:
        await self._store.update(
            name=request.name if request.HasField("name") else None,
            description=request.description if request.HasField("description") else None,
        )
        return service_info_pb2.UpdateServiceResponse(service=await self._describe())

    async def ListProfiles(
        self, request: service_info_pb2.ListProfilesRequest, context: Context
    ) -> service_info_pb2.ListProfilesResponse:
        raise NotImplementedError

    async def GetProfile(
        self, request: service_info_pb2.GetProfileRequest, context: Context
    ) -> service_info_pb2.GetProfileResponse:
        raise NotImplementedError

    async def CreateProfile(
        self, request: service_info_pb2.CreateProfileRequest, context: Context
    ) -> service_info_pb2.CreateProfileResponse:
        raise NotImplementedError

    async def _describe(self) -> service_info_pb2.ServiceInfo:
        name, description = await self._store.get()
        return service_info_pb2.ServiceInfo(
            type=SERVICE_TYPE,
            api_version=API_VERSION,
            service_version=self._version,
            name=name,
            description=description,
            min_object_timeout=MIN_OBJECT_TIMEOUT,
        )
