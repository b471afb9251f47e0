"""Every served tams.v1 RPC refuses each kind of bad token (expired, not yet valid,
wrong signature, wrong issuer, wrong audience), a static API token it does not know and
a wrong Basic password as UNAUTHENTICATED with its reason, before anything is looked
up: a table generated from the descriptors, so an RPC is covered the moment it is
served. One server verifies HS256 tokens with an issuer and an audience, a tokens file
and a users file (its password hash cheap, see ``helpers.auth.cheap_hash``)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor

from helpers import auth
from helpers.auth import BAD_CREDENTIALS, BAD_TOKENS, bearer
from helpers.rpc_table import SERVED_METHODS, call, path_of
from helpers.servers import Stubs, module_fixture
from helpers.status import failure

secret_server = module_fixture(auth.secret_server, "bad-tokens", hash_of=auth.cheap_hash)


@pytest.mark.parametrize("kind", BAD_TOKENS)
@pytest.mark.parametrize("method", SERVED_METHODS, ids=path_of)
async def test_each_bad_token_is_unauthenticated_with_its_reason(
    secret_server: Stubs, method: MethodDescriptor, kind: str
) -> None:
    token, reason = BAD_TOKENS[kind]
    refused = await failure(call(secret_server.channel, method, bearer(token())))
    assert refused.code == grpc.StatusCode.UNAUTHENTICATED, refused
    assert refused.reason == reason


@pytest.mark.parametrize("kind", BAD_CREDENTIALS)
@pytest.mark.parametrize("method", SERVED_METHODS, ids=path_of)
async def test_a_wrong_static_token_or_password_is_unauthenticated(
    secret_server: Stubs, method: MethodDescriptor, kind: str
) -> None:
    value, reason = BAD_CREDENTIALS[kind]
    refused = await failure(call(secret_server.channel, method, (("authorization", value),)))
    assert refused.code == grpc.StatusCode.UNAUTHENTICATED, refused
    assert refused.reason == reason
    assert refused.metadata == {"authSchemes": "Bearer Basic"}
