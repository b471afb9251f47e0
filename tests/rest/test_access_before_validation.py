"""A request the gateway refuses before its call (a bad body, query or path id, a body
too large) is answered 401 without credentials and 403 without the scope of the call
it would have made, as a well-formed one is: only a caller who may make the call
learns what validation found (400, 413). Both dialects, on a server that verifies
tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from helpers.auth import hs256
from helpers.principals import ADMIN, DELETE, READ, WRITE, ScopeServer, scope_server
from helpers.servers import module_fixture
from tams_server.app import serve_gateway
from tams_server.gateway.body import MAX_BODY_BYTES

Case = tuple[str, str, dict[str, Any], str]
# (method, path, what makes the request bad, the scope its call needs)
FLOW = str(uuid.uuid4())
CASES: list[Case] = [
    ("POST", f"/flows/{FLOW}/segments", {"content": b"{not json"}, WRITE),
    ("PUT", f"/flows/{FLOW}", {"json": {"format": 7}}, WRITE),
    ("GET", "/flows", {"params": {"limit": "many"}}, READ),
    ("GET", f"/flows/{FLOW}/segments", {"params": {"presigned": "perhaps"}}, READ),
    ("DELETE", f"/sources/{FLOW}", {"params": {"delete_flows": "maybe"}}, DELETE),
    ("POST", f"/flows/{FLOW}/storage", {"content": b"x" * (MAX_BODY_BYTES + 1)}, WRITE),
]

NAMES = ["bad-json", "bad-type", "bad-limit", "bad-boolean", "bad-delete-flag", "too-large"]


server = module_fixture(scope_server, "access-first")


@pytest.fixture(scope="module")
async def urls(server: ScopeServer) -> AsyncIterator[dict[str, str]]:
    """The base URL of each dialect's gateway on the server."""
    async with AsyncExitStack() as stack:
        guide = await stack.enter_async_context(
            serve_gateway(server.running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0")
        )
        yield {"spec": server.running.http_url, "guide-7.0": guide}


def token(*scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {hs256(scope=' '.join(scopes), iss=None, aud=None)}"}


async def send(url: str, case: Case, headers: dict[str, str] | None = None) -> httpx.Response:
    method, path, bad, _ = case
    async with httpx.AsyncClient(base_url=url) as client:
        return await client.request(method, path, headers=headers, **bad)


def error_code(answer: httpx.Response) -> str:
    body = answer.json()
    return str(body.get("type", body.get("error_code")))


@pytest.mark.parametrize("dialect", ["spec", "guide-7.0"])
@pytest.mark.parametrize("case", CASES, ids=NAMES)
async def test_access_is_checked_before_validation(
    urls: dict[str, str], dialect: str, case: Case
) -> None:
    url = urls[dialect]
    anonymous = await send(url, case)
    assert anonymous.status_code == 401, anonymous.text
    assert error_code(anonymous) == "CREDENTIALS_MISSING"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert "body" not in anonymous.text
    assert "query" not in anonymous.text
    bad_token = await send(url, case, {"Authorization": "Bearer not-a-token"})
    assert bad_token.status_code == 401, bad_token.text
    others = {READ, WRITE, DELETE} - {case[3]}
    unscoped = await send(url, case, token(*others))
    assert unscoped.status_code == 403, unscoped.text
    assert error_code(unscoped) == "SCOPE_MISSING"
    for scopes in ((case[3],), (ADMIN,)):
        allowed = await send(url, case, token(*scopes))
        expected = 413 if len(case[2].get("content", b"")) > MAX_BODY_BYTES else 400
        assert allowed.status_code == expected, allowed.text


async def test_a_presigned_upload_needs_no_credentials(server: ScopeServer) -> None:
    """The object store's own URLs take no credentials: their refusals stay theirs."""
    async with httpx.AsyncClient(base_url=server.running.http_url) as client:
        answer = await client.put("/_objects/no-such-key?expires=1&signature=00", content=b"x")
    assert answer.status_code in (403, 404), answer.text
