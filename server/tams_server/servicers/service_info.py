"""tams.v1.ServiceInfoService: the service description and Profiles."""

from __future__ import annotations

from importlib import metadata

import grpc

from tams.v1 import service_info_pb2, service_info_pb2_grpc
from tams_server.auth.scopes import check_scope
from tams_server.convert.common import optional
from tams_server.convert.profiles import profile_to_domain, profile_to_proto
from tams_server.domain.flows import validate_profile
from tams_server.domain.ids import check_uuid
from tams_server.domain.principal import current_principal, principal
from tams_server.servicers.attribution import attributed
from tams_server.store.paging import page_size
from tams_server.store.profiles import ProfileStore
from tams_server.store.service_info import ServiceInfoStore

Context = grpc.aio.ServicerContext[object, object]

SERVICE_TYPE = "urn:x-tams:service:tams-grpc"
API_VERSION = "8.2"
# TAMS advertises webhooks by this name (`/service/webhooks`).
EVENT_STREAM_MECHANISMS = (service_info_pb2.EventStreamMechanism(name="webhooks"),)


def _service_version() -> str:
    try:
        return metadata.version("tams-grpc")
    except metadata.PackageNotFoundError:
        return "unknown"


class ServiceInfoServicer(service_info_pb2_grpc.ServiceInfoServiceServicer):
    """The service's own description."""

    def __init__(
        self, store: ServiceInfoStore, profiles: ProfileStore, *, object_timeout_s: int
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._object_timeout = f"{object_timeout_s}:0"
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

    async def CheckAccess(
        self, request: service_info_pb2.CheckAccessRequest, context: Context
    ) -> service_info_pb2.CheckAccessResponse:
        """The interceptors authenticated the caller; the scope of ``method`` is checked
        as ``ScopeInterceptor`` checks a call's (anonymous callers pass, as there)."""
        caller = current_principal.get()
        if caller is not None and request.method:
            check_scope(caller.scopes, request.method)
        return service_info_pb2.CheckAccessResponse()

    async def ListProfiles(
        self, request: service_info_pb2.ListProfilesRequest, context: Context
    ) -> service_info_pb2.ListProfilesResponse:
        page = await self._profiles.find(
            format=optional(request, "format"),
            codec=optional(request, "codec"),
            label=optional(request, "label"),
            page_size=page_size(request.page_size),
            page_token=request.page_token,
        )
        return service_info_pb2.ListProfilesResponse(
            profiles=[profile_to_proto(profile) for profile in page.items],
            next_page_token=page.next_page_token,
            page_size=page.page_size,
        )

    async def GetProfile(
        self, request: service_info_pb2.GetProfileRequest, context: Context
    ) -> service_info_pb2.GetProfileResponse:
        check_uuid(request.profile_id, "profile_id")
        profile = await self._profiles.get(request.profile_id)
        return service_info_pb2.GetProfileResponse(profile=profile_to_proto(profile))

    async def CreateProfile(
        self, request: service_info_pb2.CreateProfileRequest, context: Context
    ) -> service_info_pb2.CreateProfileResponse:
        profile, essence_format = profile_to_domain(request.profile)
        validate_profile(profile, essence_format=essence_format)
        stored = await self._profiles.create(attributed(profile), actor=principal())
        return service_info_pb2.CreateProfileResponse(profile=profile_to_proto(stored))

    async def _describe(self) -> service_info_pb2.ServiceInfo:
        name, description = await self._store.get()
        return service_info_pb2.ServiceInfo(
            type=SERVICE_TYPE,
            api_version=API_VERSION,
            service_version=self._version,
            name=name,
            description=description,
            min_object_timeout=self._object_timeout,
            min_presigned_url_timeout=self._object_timeout,
            event_stream_mechanisms=EVENT_STREAM_MECHANISMS,
        )
