"""Authentication through the REST gateway: it forwards the caller's credentials
(``Authorization: Bearer``/``Basic``, the ``access_token`` parameter) and turns
UNAUTHENTICATED into 401 with ``WWW-Authenticate`` and the spec's error body."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from helpers import auth
from helpers.auth import (
    BASIC_PASSWORD,
    BASIC_USER,
    STATIC_TOKEN,
    KeyFiles,
    basic,
    claims,
    hs256,
    key_files,
)
from helpers.servers import Stubs, module_fixture
from tams_server.app import RunningServer

secret_server = module_fixture(auth.secret_server, "secret")


@pytest.fixture
async def http(secret_server: Stubs) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=secret_server.running.http_url) as client:
        yield client


def _flow_json(**fields: Any) -> dict[str, Any]:
    """A new video Flow, as the REST API takes it."""
    flow = {
        "id": str(uuid.uuid4()), "source_id": str(uuid.uuid4()),
        "format": "urn:x-nmos:format:video", "codec": "video/h264", "container": "video/mp2t",
        "essence_parameters": {
            "frame_width": 1920, "frame_height": 1080,
            "frame_rate": {"numerator": 25, "denominator": 1},
        },
    }  # fmt: skip
    return flow | fields


def _refused(response: httpx.Response, reason: str) -> list[str]:
    """Assert a 401 with the spec's error body; its WWW-Authenticate challenges."""
    assert response.status_code == 401, response.text
    if response.request.method != "HEAD":
        body = response.json()
        assert body["type"] == reason
        assert set(body) == {"type", "summary", "time"}
    return response.headers.get_list("www-authenticate")


async def test_no_credentials_get_401_with_both_challenges(http: httpx.AsyncClient) -> None:
    challenges = _refused(await http.get("/flows"), "CREDENTIALS_MISSING")
    assert challenges == ['Bearer realm="tams"', 'Basic realm="tams", charset="UTF-8"']
    head = await http.head("/flows")
    assert head.status_code == 401
    assert not head.content


async def test_a_refused_token_says_invalid_token(http: httpx.AsyncClient) -> None:
    expired = hs256(exp=int(time.time()) - 60)
    response = await http.get("/flows", headers={"Authorization": f"Bearer {expired}"})
    assert _refused(response, "TOKEN_EXPIRED")[0] == 'Bearer realm="tams", error="invalid_token"'


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {hs256()}"},
        {"Authorization": f"bearer {STATIC_TOKEN}"},
        {"Authorization": basic(BASIC_USER, BASIC_PASSWORD)},
    ],
    ids=["jwt", "static-token", "basic"],
)
async def test_good_credentials_pass(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert (await http.get("/flows", headers=headers)).status_code == 200


async def test_a_wrong_password_gets_401(http: httpx.AsyncClient) -> None:
    response = await http.get("/flows", headers={"Authorization": basic(BASIC_USER, "no")})
    _refused(response, "BASIC_CREDENTIALS_INVALID")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"Bearer", "CREDENTIALS_MALFORMED"),
        (b"Negotiate abc", "CREDENTIALS_SCHEME_UNSUPPORTED"),
        (b"Basic %%%", "CREDENTIALS_MALFORMED"),
        (b"Bearer caf\xe9", "CREDENTIALS_MALFORMED"),
        (b"Bearer " + b"x" * 20_000, "CREDENTIALS_MALFORMED"),
    ],
    ids=["no-token", "unknown-scheme", "bad-base64", "not-ascii", "huge"],
)
async def test_malformed_authorization_gets_401_never_500(
    http: httpx.AsyncClient, value: bytes, reason: str
) -> None:
    _refused(await http.get("/flows", headers={b"Authorization": value}), reason)


async def test_the_access_token_parameter_is_a_bearer_token_kept_in_next_links(
    http: httpx.AsyncClient,
) -> None:
    """The spec: clients keep ``access_token`` for the session; the next link keeps
    it too, so a client following it as is stays authenticated (it goes back only
    to the caller who sent it, in the answer to a URL that already holds it)."""
    token = hs256()
    for _ in range(2):
        flow = _flow_json()
        put = await http.put(f"/flows/{flow['id']}", params={"access_token": token}, json=flow)
        assert put.status_code == 201, put.text
    first = await http.get("/flows", params={"access_token": token, "limit": "1"})
    assert first.status_code == 200
    following = first.links["next"]["url"]
    assert f"access_token={token}" in following
    assert (await http.get(following)).status_code == 200
    refused = await http.get("/flows", params={"access_token": "nope"})
    _refused(refused, "TOKEN_INVALID")


async def test_the_header_wins_over_the_parameter(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/flows", params={"access_token": "nope"}, headers={"Authorization": f"Bearer {hs256()}"}
    )
    assert response.status_code == 200


async def test_the_subject_is_who_did_it(http: httpx.AsyncClient) -> None:
    alice = {"Authorization": f"Bearer {hs256(sub='alice')}"}
    flow = _flow_json(created_by="mallory", updated_by="mallory")
    assert (await http.put(f"/flows/{flow['id']}", json=flow, headers=alice)).status_code == 201
    stored = (await http.get(f"/flows/{flow['id']}", headers=alice)).json()
    assert (stored["created_by"], stored["updated_by"]) == ("alice", "alice")


async def test_storage_allocation_forwards_the_credentials(http: httpx.AsyncClient) -> None:
    # Its call is response-streaming: the gateway forwards the header on those too.
    headers = {"Authorization": f"Bearer {hs256()}"}
    flow = _flow_json()
    assert (await http.put(f"/flows/{flow['id']}", json=flow, headers=headers)).status_code == 201
    for path, body in (("storage", {"limit": 2}), ("storage/batch", {"requests": [{"limit": 1}]})):
        allocated = await http.post(f"/flows/{flow['id']}/{path}", json=body, headers=headers)
        assert allocated.status_code in (200, 201), allocated.text


async def test_basic_is_not_challenged_where_it_is_off(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> None:
    keys: KeyFiles = key_files(tmp_path_factory.mktemp("keys"))
    async with (
        auth.key_server(tmp_path_factory.mktemp("key"), database_url, keys) as stubs,
        httpx.AsyncClient(base_url=stubs.running.http_url) as http,
    ):
        response = await http.get("/flows", headers={"Authorization": basic(BASIC_USER, "x")})
        assert _refused(response, "CREDENTIALS_SCHEME_UNSUPPORTED") == ['Bearer realm="tams"']
        rs256 = jwt.encode(claims(), keys.rsa_key, algorithm="RS256")
        ok = await http.get("/flows", headers={"Authorization": f"Bearer {rs256}"})
        assert ok.status_code == 200


async def test_without_authentication_credentials_change_nothing(running: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=running.http_url) as http:
        for value in (b"Bearer whatever", b"Bearer caf\xe9", b"Basic %%%"):
            assert (await http.get("/flows", headers={b"Authorization": value})).status_code == 200
