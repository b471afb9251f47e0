"""The scope check on a real server, for every RPC of every tams.v1 service: a caller
without the RPC's scope is refused before anything is looked up (ids that exist
nowhere still get PERMISSION_DENIED, never NOT_FOUND); the scope alone passes the
check (the call then succeeds or fails on its own merits); admin passes everything;
a call without credentials is UNAUTHENTICATED. The callers hold real tokens."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor

from helpers.principals import ADMIN, ALL_SCOPES, ScopeServer, scope_server
from helpers.rpc_table import (
    METHODS,
    SERVED_METHODS,
    call,
    code_of,
    path_of,
    served,
    the_scope_of,
)
from helpers.servers import module_fixture
from helpers.status import failure
from tams.v1 import options_pb2, service_info_pb2, service_info_pb2_grpc
from tams_server.auth.scopes import SCOPE_NAMES, required_scope

# Those that need a scope (the others take any authenticated caller: no scope is wrong).
SCOPED_METHODS = [
    method
    for method in METHODS
    if required_scope(f"/{method.containing_service.full_name}/{method.name}")
    != options_pb2.REQUIRED_SCOPE_AUTHENTICATED
]


server = module_fixture(scope_server, "scopes")


@pytest.mark.parametrize("method", SCOPED_METHODS, ids=path_of)
async def test_other_scopes_are_refused_before_any_lookup(
    server: ScopeServer, method: MethodDescriptor
) -> None:
    wrong = ALL_SCOPES - the_scope_of(method) - {ADMIN}
    async with grpc.aio.insecure_channel(server.running.grpc_target) as channel:
        metadata = server.callers.metadata(wrong)
        if not served(method):
            # Designed, not yet served: gRPC answers before any interceptor runs.
            assert await code_of(channel, method, metadata) == grpc.StatusCode.UNIMPLEMENTED
            return
        server.recorder.calls.clear()
        refused = await failure(call(channel, method, metadata))
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.reason == "SCOPE_MISSING"
    assert refused.metadata == {
        "requiredScope": SCOPE_NAMES[required_scope(path_of(method))],
        "method": path_of(method),
    }
    assert server.recorder.calls == [path_of(method)]


@pytest.mark.parametrize("method", METHODS, ids=path_of)
@pytest.mark.parametrize("holder", ["its scope alone", "admin"])
async def test_the_scope_alone_and_admin_pass_the_check(
    server: ScopeServer, method: MethodDescriptor, holder: str
) -> None:
    metadata = {
        "its scope alone": server.callers.metadata(the_scope_of(method)),
        "admin": server.callers.metadata({ADMIN}),
    }[holder]
    server.recorder.calls.clear()
    async with grpc.aio.insecure_channel(server.running.grpc_target) as channel:
        code = await code_of(channel, method, metadata)
    assert code not in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)
    if served(method):
        assert server.recorder.calls == [path_of(method)]  # it reached the server
    else:
        assert code == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("method", SERVED_METHODS, ids=path_of)
async def test_no_credentials_are_unauthenticated(
    server: ScopeServer, method: MethodDescriptor
) -> None:
    async with grpc.aio.insecure_channel(server.running.grpc_target) as channel:
        refused = await failure(call(channel, method, ()))
    assert refused.code == grpc.StatusCode.UNAUTHENTICATED
    assert refused.reason == "CREDENTIALS_MISSING"


async def test_a_missing_scope_hides_whether_the_resource_exists(server: ScopeServer) -> None:
    # The contrast the check exists for: with the scope, an unknown Flow is NOT_FOUND;
    # without it, the same call is refused and says nothing of the Flow.
    (get_flow,) = (m for m in METHODS if path_of(m) == "/tams.v1.FlowService/GetFlow")
    callers = server.callers
    async with grpc.aio.insecure_channel(server.running.grpc_target) as channel:
        assert await code_of(channel, get_flow, callers.metadata({"tams-api/read"})) == (
            grpc.StatusCode.NOT_FOUND
        )
        assert await code_of(channel, get_flow, callers.metadata({"tams-api/write"})) == (
            grpc.StatusCode.PERMISSION_DENIED
        )


async def test_health_and_reflection_stay_open(server: ScopeServer) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    metadata = server.callers.metadata(())
    async with grpc.aio.insecure_channel(server.running.grpc_target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(), metadata=metadata)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for reply in reflection.ServerReflectionInfo(iter([request]), metadata=metadata):
            names = {s.name for s in reply.list_services_response.service}
            assert "tams.v1.FlowService" in names


async def test_reflection_shows_each_rpc_scope(server: ScopeServer) -> None:
    # What `grpcurl describe tams.v1.FlowService.DeleteFlow` prints the option from.
    from google.protobuf import descriptor_pb2
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="tams.v1.FlowService")
    async with grpc.aio.insecure_channel(server.running.grpc_target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = [r async for r in stub.ServerReflectionInfo(iter([request]))]
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in replies[0].file_descriptor_response.file_descriptor_proto
    ]
    (flows,) = (f for f in files if f.name == "tams/v1/flows.proto")
    assert "tams/v1/options.proto" in flows.dependency
    scopes = {
        method.name: method.options.Extensions[options_pb2.required_scope]
        for method in flows.service[0].method
    }
    assert scopes["DeleteFlow"] == options_pb2.REQUIRED_SCOPE_DELETE
    assert scopes["GetFlow"] == options_pb2.REQUIRED_SCOPE_READ


async def test_check_access_answers_for_the_method_named(server: ScopeServer) -> None:
    """CheckAccess: what a call of ``method`` by the caller would meet at the scope
    check, without the call."""
    read_only = server.callers.metadata({SCOPE_NAMES[options_pb2.REQUIRED_SCOPE_READ]})
    async with grpc.aio.insecure_channel(server.running.grpc_target) as channel:
        stub = service_info_pb2_grpc.ServiceInfoServiceStub(channel)

        def check(method: str, metadata: object = read_only) -> object:
            request = service_info_pb2.CheckAccessRequest(method=method)
            return stub.CheckAccess(request, metadata=metadata)  # type: ignore[arg-type]

        await check("/tams.v1.FlowService/GetFlow")
        await check("")  # authentication alone
        refused = await failure(check("/tams.v1.FlowService/DeleteFlow"))
        assert (refused.code, refused.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "SCOPE_MISSING",
        )
        assert refused.metadata["requiredScope"] == "tams-api/delete"
        unknown = await failure(check("/tams.v1.FlowService/NoSuchCall"))
        assert (unknown.code, unknown.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "SCOPE_MISSING",
        )
        anonymous = await failure(check("/tams.v1.FlowService/GetFlow", None))
        assert anonymous.code == grpc.StatusCode.UNAUTHENTICATED
        await check("/tams.v1.FlowService/DeleteFlow", server.callers.metadata({ADMIN}))
