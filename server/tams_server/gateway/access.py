"""Access before validation: a request the gateway refuses before its call (a body,
query or path id its checks refuse, a body too large) is answered only once the server
has said that the caller may make the call the route would have made. Without
credentials the caller gets 401, without the scope 403, as for a well-formed request,
and learns nothing of what validation found.

The server judges (``ServiceInfoService.CheckAccess``, in place of the call not made:
a request still makes one call); the gateway only knows which call each route makes.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tams.v1 import service_info_pb2
from tams_server.gateway.dialects.guide_errors import ROUTE_KEY
from tams_server.gateway.errors import rpc_error_response
from tams_server.gateway.stubs import stubs_of

# The call each route makes (HEAD: its GET's), by (method, path template); a test
# checks it against the calls the routes are seen to make.
ROUTE_RPCS: Mapping[tuple[str, str], str] = {
    ("GET", "/analytics/flow-usage"): "AnalyticsService/GetFlowUsage",
    ("GET", "/analytics/storage-usage"): "AnalyticsService/GetStorageUsage",
    ("GET", "/analytics/time-range-analysis"): "AnalyticsService/AnalyzeTimeRange",
    ("GET", "/flow-delete-requests"): "FlowDeleteRequestService/ListFlowDeleteRequests",
    ("GET", "/flow-delete-requests/{request_id}"): "FlowDeleteRequestService/GetFlowDeleteRequest",
    ("GET", "/flows"): "FlowService/ListFlows",
    ("POST", "/flows"): "FlowService/CreateFlow",
    ("POST", "/flows/batch"): "FlowService/BatchCreateFlows",
    ("DELETE", "/flows/{flow_id}"): "FlowService/DeleteFlow",
    ("GET", "/flows/{flow_id}"): "FlowService/GetFlow",
    ("PUT", "/flows/{flow_id}"): "FlowService/UpdateFlow",
    ("DELETE", "/flows/{flow_id}/segments"): "SegmentService/DeleteSegments",
    ("GET", "/flows/{flow_id}/segments"): "SegmentService/ListSegments",
    ("POST", "/flows/{flow_id}/segments"): "SegmentService/RegisterSegments",
    ("POST", "/flows/{flow_id}/storage"): "StorageService/AllocateStorage",
    ("POST", "/flows/{flow_id}/storage/batch"): "StorageService/BatchAllocateStorage",
    ("DELETE", "/flows/{id}/avg_bit_rate"): "FlowService/UpdateFlow",
    ("GET", "/flows/{id}/avg_bit_rate"): "FlowService/GetFlow",
    ("PUT", "/flows/{id}/avg_bit_rate"): "FlowService/UpdateFlow",
    ("DELETE", "/flows/{id}/description"): "FlowService/UpdateFlow",
    ("GET", "/flows/{id}/description"): "FlowService/GetFlow",
    ("PUT", "/flows/{id}/description"): "FlowService/UpdateFlow",
    ("DELETE", "/flows/{id}/flow_collection"): "FlowService/UpdateFlow",
    ("GET", "/flows/{id}/flow_collection"): "FlowService/GetFlow",
    ("PUT", "/flows/{id}/flow_collection"): "FlowService/UpdateFlow",
    ("DELETE", "/flows/{id}/label"): "FlowService/UpdateFlow",
    ("GET", "/flows/{id}/label"): "FlowService/GetFlow",
    ("PUT", "/flows/{id}/label"): "FlowService/UpdateFlow",
    ("DELETE", "/flows/{id}/max_bit_rate"): "FlowService/UpdateFlow",
    ("GET", "/flows/{id}/max_bit_rate"): "FlowService/GetFlow",
    ("PUT", "/flows/{id}/max_bit_rate"): "FlowService/UpdateFlow",
    ("GET", "/flows/{id}/read_only"): "FlowService/GetFlow",
    ("PUT", "/flows/{id}/read_only"): "FlowService/UpdateFlow",
    ("GET", "/flows/{id}/tags"): "FlowService/GetFlow",
    ("PUT", "/flows/{id}/tags"): "FlowService/UpdateFlow",
    ("DELETE", "/flows/{id}/tags/{name}"): "FlowService/DeleteFlowTag",
    ("GET", "/flows/{id}/tags/{name}"): "FlowService/GetFlow",
    ("PUT", "/flows/{id}/tags/{name}"): "FlowService/SetFlowTag",
    ("GET", "/objects/{object_id:path}"): "ObjectService/GetObject",
    ("DELETE", "/objects/{object_id:path}/instances"): "ObjectService/DeleteObjectInstance",
    ("POST", "/objects/{object_id:path}/instances"): "ObjectService/AddObjectInstance",
    ("GET", "/service"): "ServiceInfoService/GetService",
    ("POST", "/service"): "ServiceInfoService/UpdateService",
    ("GET", "/service/profiles"): "ServiceInfoService/ListProfiles",
    ("GET", "/service/profiles/{profile_id}"): "ServiceInfoService/GetProfile",
    ("POST", "/service/profiles/{profile_id}"): "ServiceInfoService/CreateProfile",
    ("GET", "/service/storage-backends"): "StorageService/ListStorageBackends",
    ("GET", "/service/webhooks"): "WebhookService/ListWebhooks",
    ("POST", "/service/webhooks"): "WebhookService/CreateWebhook",
    ("DELETE", "/service/webhooks/{webhook_id}"): "WebhookService/DeleteWebhook",
    ("GET", "/service/webhooks/{webhook_id}"): "WebhookService/GetWebhook",
    ("PUT", "/service/webhooks/{webhook_id}"): "WebhookService/UpdateWebhook",
    ("GET", "/sources"): "SourceService/ListSources",
    ("POST", "/sources"): "SourceService/CreateSource",
    ("POST", "/sources/batch"): "SourceService/BatchCreateSources",
    ("DELETE", "/sources/{id}/description"): "SourceService/UpdateSource",
    ("GET", "/sources/{id}/description"): "SourceService/GetSource",
    ("PUT", "/sources/{id}/description"): "SourceService/UpdateSource",
    ("DELETE", "/sources/{id}/label"): "SourceService/UpdateSource",
    ("GET", "/sources/{id}/label"): "SourceService/GetSource",
    ("PUT", "/sources/{id}/label"): "SourceService/UpdateSource",
    ("GET", "/sources/{id}/tags"): "SourceService/GetSource",
    ("PUT", "/sources/{id}/tags"): "SourceService/UpdateSource",
    ("DELETE", "/sources/{id}/tags/{name}"): "SourceService/DeleteSourceTag",
    ("GET", "/sources/{id}/tags/{name}"): "SourceService/GetSource",
    ("PUT", "/sources/{id}/tags/{name}"): "SourceService/SetSourceTag",
    ("DELETE", "/sources/{source_id}"): "SourceService/DeleteSource",
    ("GET", "/sources/{source_id}"): "SourceService/GetSource",
    # HLS playlists: the first of their calls (both need the same scope).
    ("GET", "/hls/flows/{flow_id}/index.m3u8"): "FlowService/GetFlow",
    ("GET", "/hls/sources/{source_id}/master.m3u8"): "FlowService/ListFlows",
}  # fmt: skip


def route_rpc(request: Request) -> str | None:
    """The full method name of the call ``request``'s route makes; None for a request
    that no route of the API matched (or a method its path does not take)."""
    # The guide dialect names the spec route its request went to (its aliases too).
    key = getattr(request.state, ROUTE_KEY, None)
    if key is None:
        route = request.scope.get("route")
        if not isinstance(route, Route):
            return None
        key = (request.method, route.path)
    method, path = key
    rpc = ROUTE_RPCS.get(("GET" if method == "HEAD" else method, path))
    return None if rpc is None else f"/tams.v1.{rpc}"


async def refused_first(request: Request, refusal: Response) -> Response:
    """``refusal`` (a 4xx made before the route's call), unless the caller may not
    make that call: then the server's 401 or 403. Requests of no API route (an unknown
    path; the presigned object URLs, which take no credentials) keep their refusal."""
    rpc = route_rpc(request)
    if rpc is None:
        return refusal
    try:
        await stubs_of(request).service.CheckAccess(service_info_pb2.CheckAccessRequest(method=rpc))
    except grpc.aio.AioRpcError as error:
        return rpc_error_response(error, request)
    return refusal
