"""The tams.v1 methods the clients call, checked against the descriptors at import."""

from __future__ import annotations

from tams.v1 import flows_pb2 as f
from tams.v1 import segments_pb2 as sg
from tams.v1 import service_info_pb2 as si
from tams.v1 import sources_pb2 as so
from tams.v1 import storage_pb2 as st
from tams_client._calls import rpc

GET_SERVICE = rpc(si.GetServiceResponse, "ServiceInfoService", "GetService")

GET_SOURCE = rpc(so.GetSourceResponse, "SourceService", "GetSource")
LIST_SOURCES = rpc(so.ListSourcesResponse, "SourceService", "ListSources")
CREATE_SOURCE = rpc(so.CreateSourceResponse, "SourceService", "CreateSource")
BATCH_CREATE_SOURCES = rpc(so.BatchCreateSourcesResponse, "SourceService", "BatchCreateSources")
UPDATE_SOURCE = rpc(so.UpdateSourceResponse, "SourceService", "UpdateSource")
SET_SOURCE_TAG = rpc(so.SetSourceTagResponse, "SourceService", "SetSourceTag")
DELETE_SOURCE_TAG = rpc(so.DeleteSourceTagResponse, "SourceService", "DeleteSourceTag")
DELETE_SOURCE = rpc(so.DeleteSourceResponse, "SourceService", "DeleteSource")

GET_FLOW = rpc(f.GetFlowResponse, "FlowService", "GetFlow")
LIST_FLOWS = rpc(f.ListFlowsResponse, "FlowService", "ListFlows")
CREATE_FLOW = rpc(f.CreateFlowResponse, "FlowService", "CreateFlow")
BATCH_CREATE_FLOWS = rpc(f.BatchCreateFlowsResponse, "FlowService", "BatchCreateFlows")
UPDATE_FLOW = rpc(f.UpdateFlowResponse, "FlowService", "UpdateFlow")
SET_FLOW_TAG = rpc(f.SetFlowTagResponse, "FlowService", "SetFlowTag")
DELETE_FLOW_TAG = rpc(f.DeleteFlowTagResponse, "FlowService", "DeleteFlowTag")
DELETE_FLOW = rpc(f.DeleteFlowResponse, "FlowService", "DeleteFlow")

STREAM_SEGMENTS = rpc(sg.StreamSegmentsResponse, "SegmentService", "StreamSegments")
REGISTER_SEGMENTS = rpc(sg.RegisterSegmentsResponse, "SegmentService", "RegisterSegments")
STREAM_REGISTER_SEGMENTS = rpc(
    sg.StreamRegisterSegmentsResponse, "SegmentService", "StreamRegisterSegments"
)
DELETE_SEGMENTS = rpc(sg.DeleteSegmentsResponse, "SegmentService", "DeleteSegments")

ALLOCATE_STORAGE = rpc(st.AllocateStorageResponse, "StorageService", "AllocateStorage")
START_MULTIPART = rpc(st.StartMultipartUploadResponse, "StorageService", "StartMultipartUpload")
PART_URLS = rpc(st.GetMultipartPartUrlsResponse, "StorageService", "GetMultipartPartUrls")
COMPLETE_MULTIPART = rpc(
    st.CompleteMultipartUploadResponse, "StorageService", "CompleteMultipartUpload"
)
ABORT_MULTIPART = rpc(st.AbortMultipartUploadResponse, "StorageService", "AbortMultipartUpload")
