"""The authorization table the protos declare: every RPC has an entry, AppNote 0016's
choices hold, and ``grants`` reads scopes as the AppNote does."""

from __future__ import annotations

import pytest

from helpers.principals import ADMIN, ALL_SCOPES, DELETE, READ, WRITE
from tams.v1 import options_pb2
from tams_server.app import TAMS_SERVICES
from tams_server.auth.scopes import SCOPE_TABLE, grants, required_scope, tams_services

RPCS = [
    f"/{service.full_name}/{method.name}"
    for service in tams_services()
    for method in service.methods
]


def test_the_table_is_read_from_every_service_the_server_offers() -> None:
    assert {service.full_name for service in tams_services()} == set(TAMS_SERVICES)
    assert len(RPCS) >= 47


@pytest.mark.parametrize("rpc", RPCS)
def test_every_rpc_declares_a_scope(rpc: str) -> None:
    # A new RPC without `option (required_scope)` fails here (and is refused at run time).
    assert required_scope(rpc) != options_pb2.REQUIRED_SCOPE_UNSPECIFIED


def test_the_table_holds_the_rpcs_and_nothing_else() -> None:
    assert sorted(SCOPE_TABLE) == sorted(RPCS)


def test_a_method_without_a_declaration_has_no_entry() -> None:
    with pytest.raises(LookupError):
        required_scope("/tams.v1.FlowService/NoSuchMethod")
    with pytest.raises(LookupError):
        required_scope("/grpc.health.v1.Health/Check")


# AppNote 0016's table, where its mapping is not simply GET = read, PUT/POST = write.
APPNOTE_CHOICES = {
    "/tams.v1.ServiceInfoService/GetService": options_pb2.REQUIRED_SCOPE_AUTHENTICATED,
    "/tams.v1.StorageService/ListStorageBackends": options_pb2.REQUIRED_SCOPE_AUTHENTICATED,
    "/tams.v1.ServiceInfoService/UpdateService": options_pb2.REQUIRED_SCOPE_ADMIN,
    "/tams.v1.FlowDeleteRequestService/ListFlowDeleteRequests": options_pb2.REQUIRED_SCOPE_ADMIN,
    "/tams.v1.FlowDeleteRequestService/GetFlowDeleteRequest": options_pb2.REQUIRED_SCOPE_DELETE,
    "/tams.v1.FlowService/DeleteFlow": options_pb2.REQUIRED_SCOPE_DELETE,
    "/tams.v1.SegmentService/DeleteSegments": options_pb2.REQUIRED_SCOPE_DELETE,
    "/tams.v1.FlowService/DeleteFlowTag": options_pb2.REQUIRED_SCOPE_WRITE,
    "/tams.v1.SourceService/DeleteSourceTag": options_pb2.REQUIRED_SCOPE_WRITE,
    "/tams.v1.ObjectService/DeleteObjectInstance": options_pb2.REQUIRED_SCOPE_WRITE,
    "/tams.v1.WebhookService/UpdateWebhook": options_pb2.REQUIRED_SCOPE_WRITE,
    "/tams.v1.WebhookService/DeleteWebhook": options_pb2.REQUIRED_SCOPE_WRITE,
    "/tams.v1.WebhookService/CreateWebhook": options_pb2.REQUIRED_SCOPE_WRITE,
    # Streaming variants take the scope of their REST counterpart.
    "/tams.v1.SegmentService/StreamSegments": options_pb2.REQUIRED_SCOPE_READ,
    "/tams.v1.SegmentService/StreamRegisterSegments": options_pb2.REQUIRED_SCOPE_WRITE,
    "/tams.v1.EventService/WatchEvents": options_pb2.REQUIRED_SCOPE_READ,
}


@pytest.mark.parametrize(("rpc", "scope"), APPNOTE_CHOICES.items())
def test_the_appnote_choices_hold(rpc: str, scope: options_pb2.RequiredScope.ValueType) -> None:
    assert required_scope(rpc) == scope


NAMED = {
    options_pb2.REQUIRED_SCOPE_READ: READ,
    options_pb2.REQUIRED_SCOPE_WRITE: WRITE,
    options_pb2.REQUIRED_SCOPE_DELETE: DELETE,
    options_pb2.REQUIRED_SCOPE_ADMIN: ADMIN,
}


@pytest.mark.parametrize(("required", "name"), NAMED.items())
def test_a_scope_is_granted_by_itself_and_by_admin_only(
    required: options_pb2.RequiredScope.ValueType, name: str
) -> None:
    assert grants(frozenset({name}), required)
    assert grants(frozenset({ADMIN}), required)
    assert not grants(ALL_SCOPES - {name, ADMIN}, required)
    assert not grants(frozenset(), required)
    assert not grants(frozenset({name.upper(), f"{name} ", "tams-api/*"}), required)


def test_authenticated_needs_no_scope() -> None:
    assert grants(frozenset(), options_pb2.REQUIRED_SCOPE_AUTHENTICATED)


def test_no_scope_grants_an_undeclared_method() -> None:
    assert not grants(ALL_SCOPES, options_pb2.REQUIRED_SCOPE_UNSPECIFIED)
