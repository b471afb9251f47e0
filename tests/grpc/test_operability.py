"""Operable like any gRPC service: reflection, health of every designed service,
UNIMPLEMENTED for an unknown method, a request id on every answer."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tams.v1 import service_info_pb2, service_info_pb2_grpc
from tams_server.app import TAMS_SERVICES


async def test_reflection_lists_every_service(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name async for r in responses for s in r.list_services_response.service}
    assert set(TAMS_SERVICES) <= names
    assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names
    assert len(TAMS_SERVICES) == 10


async def test_reflection_describes_a_service(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="tams.v1.FlowService")
    (response,) = [r async for r in stub.ServerReflectionInfo(iter([request]))]
    assert response.file_descriptor_response.file_descriptor_proto


async def test_health_is_serving(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "tams.v1.FlowService", "tams.v1.SourceService"):
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_every_designed_service_is_serving(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in TAMS_SERVICES:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING, service


async def test_an_unknown_method_is_unimplemented(channel: grpc.aio.Channel) -> None:
    unknown = channel.unary_unary(
        "/tams.v1.FlowService/NoSuchMethod",
        request_serializer=service_info_pb2.GetServiceRequest.SerializeToString,
        response_deserializer=service_info_pb2.GetServiceResponse.FromString,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await unknown(service_info_pb2.GetServiceRequest())
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_answers_carry_a_request_id(channel: grpc.aio.Channel) -> None:
    stub = service_info_pb2_grpc.ServiceInfoServiceStub(channel)
    call = stub.GetService(
        service_info_pb2.GetServiceRequest(), metadata=(("x-request-id", "abc123"),)
    )
    response = await call
    assert response.service.api_version == "8.2"
    assert ("x-request-id", "abc123") in tuple(await call.trailing_metadata())


async def test_service_description(
    service_info: service_info_pb2_grpc.ServiceInfoServiceStub,
) -> None:
    response = await service_info.GetService(service_info_pb2.GetServiceRequest())
    service = response.service
    assert service.type.startswith("urn:x-tams:service")
    assert service.min_object_timeout == "3600:0"
    assert service.min_presigned_url_timeout == "3600:0"
    updated = await service_info.UpdateService(
        service_info_pb2.UpdateServiceRequest(name="Test TAMS")
    )
    assert updated.service.name == "Test TAMS"
    assert updated.service.description == service.description
