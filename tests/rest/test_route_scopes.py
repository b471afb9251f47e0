"""Every REST route of the gateway makes exactly one RPC, and so has exactly one scope:
found by calling each route against a real server that records the RPCs it receives
(a route added without reaching an RPC fails here). Then the scope check over REST: a
caller without the scope gets 403 with the spec's error body, even for ids that exist
nowhere; the scope alone and admin pass the check."""

from __future__ import annotations

import pytest

from helpers.principals import ADMIN, ALL_SCOPES, ScopeServer, scope_server
from helpers.route_table import API_CASES, CASES, GATEWAY_LOCAL, PUBLIC, request
from helpers.servers import module_fixture
from tams.v1 import options_pb2
from tams_server.auth.scopes import SCOPE_NAMES, required_scope
from tams_server.gateway.access import ROUTE_RPCS

server = module_fixture(scope_server, "route-scopes")


@pytest.fixture(scope="module")
async def route_rpcs(server: ScopeServer) -> dict[tuple[str, str], list[str]]:
    """The RPCs each route makes (anonymously, on the server's own gateway)."""
    made = {}
    for case in CASES:
        server.recorder.calls.clear()
        await request(server.running.http_url, case)
        made[case] = list(server.recorder.calls)
    return made


def test_the_gateway_serves_the_routes_we_expect() -> None:
    assert len(API_CASES) > 70
    assert ("HEAD", "/flows/{flow_id}/segments") in API_CASES


@pytest.mark.parametrize("case", CASES, ids=" ".join)
def test_each_route_makes_exactly_one_rpc(
    route_rpcs: dict[tuple[str, str], list[str]], case: tuple[str, str]
) -> None:
    expected = 0 if case[1] in GATEWAY_LOCAL else 1
    assert len(route_rpcs[case]) == expected, route_rpcs[case]
    if case[1] in PUBLIC:
        assert route_rpcs[case] == [PUBLIC[case[1]]]
        return
    for rpc in route_rpcs[case]:
        required_scope(rpc)  # declared: the route has a scope


@pytest.mark.parametrize("case", API_CASES, ids=" ".join)
async def test_the_scope_is_checked_over_rest(
    server: ScopeServer, route_rpcs: dict[tuple[str, str], list[str]], case: tuple[str, str]
) -> None:
    (rpc,) = route_rpcs[case]
    required = required_scope(rpc)
    name = SCOPE_NAMES.get(required)
    callers = server.callers
    if required != options_pb2.REQUIRED_SCOPE_AUTHENTICATED:
        assert name is not None
        refused = await request(await callers.http_url(ALL_SCOPES - {name, ADMIN}), case)
        assert refused.status_code == 403, refused.text
        if case[0] != "HEAD":
            body = refused.json()
            assert body["type"] == "SCOPE_MISSING"
            assert name in body["summary"]
            assert set(body) == {"type", "summary", "time"}
    for scopes in ({name} if name else set(), {ADMIN}):
        passed = await request(await callers.http_url(scopes), case)
        assert passed.status_code != 403, (scopes, passed.text)


@pytest.mark.parametrize("case", [c for c in CASES if c[1] in PUBLIC], ids=" ".join)
async def test_public_routes_need_no_credentials(
    server: ScopeServer, case: tuple[str, str]
) -> None:
    answered = await request(server.running.http_url, case)
    assert answered.status_code == 200, answered.text


@pytest.mark.parametrize("case", API_CASES, ids=" ".join)
async def test_no_credentials_are_401_on_every_route(
    server: ScopeServer, case: tuple[str, str]
) -> None:
    refused = await request(server.running.http_url, case)
    assert refused.status_code == 401, refused.text
    assert refused.headers["www-authenticate"].startswith("Bearer")
    if case[0] != "HEAD":
        assert refused.json()["type"] == "CREDENTIALS_MISSING"


@pytest.mark.parametrize("case", API_CASES, ids=" ".join)
def test_the_gateway_knows_the_call_of_each_route(
    route_rpcs: dict[tuple[str, str], list[str]], case: tuple[str, str]
) -> None:
    """The table by which a refusal before the call waits for the right to make it
    (``gateway.access``) names the call each route is seen to make."""
    method, path = case
    rpc = ROUTE_RPCS.get(("GET" if method == "HEAD" else method, path))
    assert [f"/tams.v1.{rpc}"] == route_rpcs[case]
