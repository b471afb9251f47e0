"""The tams.v1 methods the clients call, checked against the descriptors at import."""

from __future__ import annotations

from tams.v1 import events_pb2 as ev
from tams.v1 import flows_pb2 as f
from tams.v1 import segments_pb2 as sg
from tams.v1 import service_info_pb2 as si
from tams.v1 import sources_pb2 as so
from tams.v1 import storage_pb2 as st
from tams.v1 import webhooks_pb2 as wh
from tams_client._calls import rpc

GET_SERVICE = rpc(si.GetServiceResponse)

GET_SOURCE = rpc(so.GetSourceResponse)
LIST_SOURCES = rpc(so.ListSourcesResponse)
CREATE_SOURCE = rpc(so.CreateSourceResponse)
BATCH_CREATE_SOURCES = rpc(so.BatchCreateSourcesResponse)
UPDATE_SOURCE = rpc(so.UpdateSourceResponse)
SET_SOURCE_TAG = rpc(so.SetSourceTagResponse)
DELETE_SOURCE_TAG = rpc(so.DeleteSourceTagResponse)
DELETE_SOURCE = rpc(so.DeleteSourceResponse)

GET_FLOW = rpc(f.GetFlowResponse)
LIST_FLOWS = rpc(f.ListFlowsResponse)
CREATE_FLOW = rpc(f.CreateFlowResponse)
BATCH_CREATE_FLOWS = rpc(f.BatchCreateFlowsResponse)
UPDATE_FLOW = rpc(f.UpdateFlowResponse)
SET_FLOW_TAG = rpc(f.SetFlowTagResponse)
DELETE_FLOW_TAG = rpc(f.DeleteFlowTagResponse)
DELETE_FLOW = rpc(f.DeleteFlowResponse)

STREAM_SEGMENTS = rpc(sg.StreamSegmentsResponse)
REGISTER_SEGMENTS = rpc(sg.RegisterSegmentsResponse)
STREAM_REGISTER_SEGMENTS = rpc(sg.StreamRegisterSegmentsResponse)
DELETE_SEGMENTS = rpc(sg.DeleteSegmentsResponse)

ALLOCATE_STORAGE = rpc(st.AllocateStorageResponse)
START_MULTIPART = rpc(st.StartMultipartUploadResponse)
PART_URLS = rpc(st.GetMultipartPartUrlsResponse)
COMPLETE_MULTIPART = rpc(st.CompleteMultipartUploadResponse)
ABORT_MULTIPART = rpc(st.AbortMultipartUploadResponse)

WATCH_EVENTS = rpc(ev.WatchEventsResponse)

LIST_WEBHOOKS = rpc(wh.ListWebhooksResponse)
GET_WEBHOOK = rpc(wh.GetWebhookResponse)
CREATE_WEBHOOK = rpc(wh.CreateWebhookResponse)
UPDATE_WEBHOOK = rpc(wh.UpdateWebhookResponse)
DELETE_WEBHOOK = rpc(wh.DeleteWebhookResponse)
