"""Every REST route of the gateway makes exactly one RPC, and so has exactly one scope:
found by calling each route against a real server that records the RPCs it receives
(a route added without reaching an RPC fails here). Then the scope check over REST: a
caller without the scope gets 403 with the spec's error body, even for ids that exist
nowhere; the scope alone and admin pass the check."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route

from helpers.principals import ADMIN, ALL_SCOPES, ScopeServer, scope_server
from tams.v1 import options_pb2
from tams_server.auth.scopes import SCOPE_NAMES, required_scope
from tams_server.gateway.app import gateway_routes

# Routes the gateway answers itself, with no call: the root listing and the docs.
GATEWAY_LOCAL = {"/", "/openapi.json", "/docs", "/redoc", "/docs/static"}

UNKNOWN = str(uuid.uuid4())
FLOW = {
    "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:data", "codec": "text/plain",
    "container": "application/json", "essence_parameters": {},
}  # fmt: skip
SOURCE = {"id": str(uuid.uuid4()), "format": "urn:x-nmos:format:data"}
# What a request needs for the gateway to make its call (body, query), by route.
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/service"): {"json": {"name": "scoped"}},
    ("POST", "/service/profiles/{profile_id}"): {
        "json": {
            "flow_metadata": {key: FLOW[key] for key in ("format", "codec", "essence_parameters")}
        }
    },
    ("POST", "/sources"): {"json": SOURCE},
    ("POST", "/sources/batch"): {"json": {"sources": [SOURCE]}},
    ("POST", "/flows/batch"): {"json": {"flows": [{**FLOW, "id": str(uuid.uuid4())}]}},
    ("PUT", "/flows/{flow_id}"): {"json": FLOW},
    ("PUT", "/flows/{id}/label"): {"json": "label"},
    ("PUT", "/flows/{id}/description"): {"json": "description"},
    ("PUT", "/flows/{id}/read_only"): {"json": False},
    ("PUT", "/flows/{id}/max_bit_rate"): {"json": 1},
    ("PUT", "/flows/{id}/avg_bit_rate"): {"json": 1},
    ("PUT", "/flows/{id}/flow_collection"): {"json": []},
    ("PUT", "/sources/{id}/label"): {"json": "label"},
    ("PUT", "/sources/{id}/description"): {"json": "description"},
    ("PUT", "/flows/{id}/tags/{name}"): {"json": "value"},
    ("PUT", "/sources/{id}/tags/{name}"): {"json": "value"},
    ("POST", "/flows/{flow_id}/segments"): {
        "json": {"object_id": "an-object", "timerange": "[0:0_1:0)"}
    },
    ("POST", "/flows/{flow_id}/storage"): {"json": {"limit": 1}},
    ("POST", "/flows/{flow_id}/storage/batch"): {"json": {"requests": [{"limit": 1}]}},
    ("POST", "/objects/{object_id:path}/instances"): {
        "json": {"url": "https://example.com/copy", "label": "copy"}
    },
    ("DELETE", "/objects/{object_id:path}/instances"): {"params": {"label": "copy"}},
}


def route_cases() -> list[tuple[str, str]]:
    """(HTTP method, path template) of every route the gateway serves."""
    cases = []
    for route in gateway_routes():
        if isinstance(route, Route):
            cases += [(method, route.path) for method in sorted(route.methods or ())]
        else:
            assert isinstance(route, Mount), route
            cases.append(("GET", route.path))
    return cases


CASES = route_cases()
API_CASES = [case for case in CASES if case[1] not in GATEWAY_LOCAL]


def concrete(template: str) -> str:
    """The path with ids that exist nowhere (an object id with a slash)."""

    def fill(match: re.Match[str]) -> str:
        return {"name": "a-tag", "object_id": "an/object"}.get(match[1], UNKNOWN)

    return re.sub(r"\{(\w+)(?::\w+)?\}", fill, template)


async def request(base_url: str, case: tuple[str, str]) -> httpx.Response:
    method, template = case
    extra = REQUESTS.get(case if method != "HEAD" else ("GET", template), {})
    async with httpx.AsyncClient(base_url=base_url) as client:
        return await client.request(method, concrete(template), **extra)


@pytest.fixture(scope="module")
async def server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> AsyncIterator[ScopeServer]:
    async with scope_server(tmp_path_factory.mktemp("route-scopes"), database_url) as running:
        yield running


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


@pytest.mark.parametrize("case", API_CASES, ids=" ".join)
async def test_no_credentials_are_401_on_every_route(
    server: ScopeServer, case: tuple[str, str]
) -> None:
    refused = await request(server.running.http_url, case)
    assert refused.status_code == 401, refused.text
    assert refused.headers["www-authenticate"].startswith("Bearer")
    if case[0] != "HEAD":
        assert refused.json()["type"] == "CREDENTIALS_MISSING"
