"""Every REST route that makes a call refuses each kind of bad bearer token (expired,
not yet valid, wrong signature, wrong issuer, wrong audience) with 401, a
``WWW-Authenticate: Bearer ... error="invalid_token"`` challenge and the reason as the
error body's ``type``, and so a static API token it does not know and a wrong Basic
password: a table generated from the gateway's routes, so a route is covered the
moment it is served. One server verifies HS256 tokens with an issuer and an audience,
a tokens file and a users file (its password hash cheap, see
``helpers.auth.cheap_hash``); its own gateway forwards the header."""

from __future__ import annotations

import pytest

from helpers import auth
from helpers.auth import BAD_CREDENTIALS, BAD_TOKENS
from helpers.route_table import API_CASES, request
from helpers.servers import Stubs, module_fixture

secret_server = module_fixture(auth.secret_server, "bad-tokens", hash_of=auth.cheap_hash)


@pytest.mark.parametrize("kind", BAD_TOKENS)
@pytest.mark.parametrize("case", API_CASES, ids=" ".join)
async def test_each_bad_token_is_401_with_its_reason(
    secret_server: Stubs, case: tuple[str, str], kind: str
) -> None:
    token, reason = BAD_TOKENS[kind]
    headers = {"Authorization": f"Bearer {token()}"}
    refused = await request(secret_server.running.http_url, case, headers)
    assert refused.status_code == 401, refused.text
    challenge = refused.headers.get_list("www-authenticate")[0]
    assert challenge == 'Bearer realm="tams", error="invalid_token"', refused.text
    if case[0] != "HEAD":
        assert refused.json()["type"] == reason


BASIC_CHALLENGE = 'Basic realm="tams", charset="UTF-8"'
# The challenges of each refusal: the Bearer one says invalid_token for a refused token.
CHALLENGES = {
    "wrong-static-token": ['Bearer realm="tams", error="invalid_token"', BASIC_CHALLENGE],
    "wrong-basic-password": ['Bearer realm="tams"', BASIC_CHALLENGE],
}


@pytest.mark.parametrize("kind", BAD_CREDENTIALS)
@pytest.mark.parametrize("case", API_CASES, ids=" ".join)
async def test_a_wrong_static_token_or_password_is_401(
    secret_server: Stubs, case: tuple[str, str], kind: str
) -> None:
    value, reason = BAD_CREDENTIALS[kind]
    refused = await request(secret_server.running.http_url, case, {"Authorization": value})
    assert refused.status_code == 401, refused.text
    assert refused.headers.get_list("www-authenticate") == CHALLENGES[kind], refused.text
    if case[0] != "HEAD":
        assert refused.json()["type"] == reason
