"""Authentication over gRPC, on real servers configured with real credentials: a
secret server (HS256 secret, issuer, audience, static tokens, Basic users) and a key
server (an RSA public key and a JWKS with an EC key; nothing else)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from helpers import auth
from helpers.auth import (
    AUDIENCE,
    BAD_TOKENS,
    BASIC_PASSWORD,
    BASIC_USER,
    ISSUER,
    SECRET,
    STATIC_TOKEN,
    KeyFiles,
    basic,
    bearer,
    claims,
    hmac_signed_with,
    hs256,
    key_files,
    unsigned,
)
from helpers.factories import video_flow
from helpers.servers import Stubs, module_fixture, own_server
from helpers.status import failure
from tams.v1 import flows_pb2, sources_pb2
from tams_server.auth.credentials import MAX_CREDENTIAL_BYTES
from tams_server.cli import main

Metadata = tuple[tuple[str, str], ...]


secret_server = module_fixture(auth.secret_server, "secret")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    return key_files(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
async def key_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, keys: KeyFiles
) -> AsyncIterator[Stubs]:
    async with auth.key_server(tmp_path_factory.mktemp("key"), database_url, keys) as stubs:
        yield stubs


async def _get_flow(stubs: Stubs, metadata: Metadata) -> grpc.StatusCode:
    """The code of a GetFlow of a Flow that does not exist: NOT_FOUND once the
    caller is authenticated."""
    request = flows_pb2.GetFlowRequest(flow_id=str(uuid.uuid4()))
    return (await failure(stubs.flows.GetFlow(request, metadata=metadata))).code


async def _refused(stubs: Stubs, metadata: Metadata) -> tuple[str, str]:
    """The reason and accepted schemes of a call refused as UNAUTHENTICATED."""
    request = flows_pb2.GetFlowRequest(flow_id=str(uuid.uuid4()))
    refused = await failure(stubs.flows.GetFlow(request, metadata=metadata))
    assert refused.code == grpc.StatusCode.UNAUTHENTICATED, refused
    for _, value in metadata:  # secrets never in errors
        credentials = value.partition(" ")[2]
        assert not credentials or credentials not in refused.message
    return refused.reason, refused.metadata["authSchemes"]


async def test_a_call_without_credentials_is_refused(secret_server: Stubs) -> None:
    assert await _refused(secret_server, ()) == ("CREDENTIALS_MISSING", "Bearer Basic")


async def test_a_valid_token_is_accepted(secret_server: Stubs) -> None:
    assert await _get_flow(secret_server, bearer(hs256())) == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        *BAD_TOKENS.values(),
        (lambda: hs256(iss=None), "TOKEN_ISSUER_MISMATCH"),
        (lambda: hs256(aud=None), "TOKEN_AUDIENCE_MISMATCH"),
        (lambda: hs256(exp=None), "TOKEN_INVALID"),
        (lambda: hs256(sub=None), "TOKEN_INVALID"),
        (lambda: hs256(scope=7), "TOKEN_INVALID"),
        (lambda: unsigned(), "TOKEN_INVALID"),
        (lambda: "not.a.jwt", "TOKEN_INVALID"),
        (lambda: "unknown-static-token", "TOKEN_INVALID"),
    ],
    ids=[
        *BAD_TOKENS, "no-issuer", "no-audience", "no-expiry", "no-subject", "bad-scope-claim",
        "alg-none", "not-a-jwt", "unknown-static-token",
    ],
)  # fmt: skip
async def test_bad_tokens_are_refused_with_their_reason(
    secret_server: Stubs, token: object, reason: str
) -> None:
    assert callable(token)
    assert await _refused(secret_server, bearer(token())) == (reason, "Bearer Basic")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Bearer", "CREDENTIALS_MALFORMED"),
        ("Bearer    ", "CREDENTIALS_MALFORMED"),
        ("Token abc", "CREDENTIALS_SCHEME_UNSUPPORTED"),
        ("Basic !!not-base64!!", "CREDENTIALS_MALFORMED"),
        ("Basic bm8tY29sb24=", "CREDENTIALS_MALFORMED"),  # "no-colon"
        ("Bearer " + "x" * MAX_CREDENTIAL_BYTES, "CREDENTIALS_MALFORMED"),
    ],
    ids=["no-token", "blank-token", "unknown-scheme", "bad-base64", "no-colon", "huge"],
)
async def test_malformed_authorization_is_refused(
    secret_server: Stubs, value: str, reason: str
) -> None:
    assert await _refused(secret_server, (("authorization", value),)) == (reason, "Bearer Basic")


async def test_a_token_beyond_the_metadata_limit_fails_cleanly(secret_server: Stubs) -> None:
    """gRPC itself refuses metadata far beyond the bound; the server keeps serving."""
    code = await _get_flow(secret_server, bearer("x" * 64 * 1024))
    assert code != grpc.StatusCode.NOT_FOUND
    assert await _get_flow(secret_server, bearer(hs256())) == grpc.StatusCode.NOT_FOUND


async def test_static_tokens_and_basic_users_are_accepted(secret_server: Stubs) -> None:
    assert await _get_flow(secret_server, bearer(STATIC_TOKEN)) == grpc.StatusCode.NOT_FOUND
    good = (("authorization", basic(BASIC_USER, BASIC_PASSWORD)),)
    assert await _get_flow(secret_server, good) == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(("user", "password"), [(BASIC_USER, "wrong"), ("nobody", "wrong")])
async def test_wrong_basic_credentials_are_refused(
    secret_server: Stubs, user: str, password: str
) -> None:
    metadata = (("authorization", basic(user, password)),)
    assert await _refused(secret_server, metadata) == ("BASIC_CREDENTIALS_INVALID", "Bearer Basic")


async def test_health_and_reflection_stay_open(secret_server: Stubs) -> None:
    health = health_pb2_grpc.HealthStub(secret_server.channel)
    answer = await health.Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(secret_server.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for response in reflection.ServerReflectionInfo(iter([request])):
        assert response.list_services_response.service


async def test_the_token_command_mints_a_token_the_server_accepts(
    secret_server: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    main([
        "token", "--secret", SECRET, "--sub", "operator", "--scope", "tams-api/read",
        "--ttl", "60", "--groups", "news,sport", "--issuer", ISSUER, "--audience", AUDIENCE,
    ])  # fmt: skip
    token = capsys.readouterr().out.strip()
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert decoded["sub"] == "operator"
    assert decoded["scope"] == "tams-api/read"
    assert decoded["groups"] == ["news", "sport"]
    assert decoded["exp"] - decoded["iat"] == 60
    assert await _get_flow(secret_server, bearer(token)) == grpc.StatusCode.NOT_FOUND


async def test_rs256_and_jwks_es256_tokens_are_accepted(key_server: Stubs, keys: KeyFiles) -> None:
    rs256 = jwt.encode(claims(), keys.rsa_key, algorithm="RS256")
    assert await _get_flow(key_server, bearer(rs256)) == grpc.StatusCode.NOT_FOUND
    es256 = jwt.encode(claims(), keys.ec_key, algorithm="ES256", headers={"kid": "ec-1"})
    assert await _get_flow(key_server, bearer(es256)) == grpc.StatusCode.NOT_FOUND


async def test_key_confusion_and_unknown_keys_are_refused(
    key_server: Stubs, keys: KeyFiles, tmp_path: Path
) -> None:
    """HS256 signed with the server's RSA public key as the secret (the classic
    confusion attack), ``alg: none``, an unknown kid, a forged signature and HS256 on
    a server with no secret."""
    confused = hmac_signed_with(keys.rsa_public_pem.read_bytes())
    unknown_kid = jwt.encode(claims(), keys.ec_key, algorithm="ES256", headers={"kid": "ec-9"})
    stranger = key_files(tmp_path).ec_key  # signs as kid ec-1, but is not that key
    forged = jwt.encode(claims(), stranger, algorithm="ES256", headers={"kid": "ec-1"})
    for token in (confused, unsigned(), unknown_kid, forged, hs256()):
        assert await _refused(key_server, bearer(token)) == ("TOKEN_INVALID", "Bearer")


async def test_basic_is_refused_where_it_is_not_enabled(key_server: Stubs) -> None:
    metadata = (("authorization", basic(BASIC_USER, BASIC_PASSWORD)),)
    assert await _refused(key_server, metadata) == ("CREDENTIALS_SCHEME_UNSUPPORTED", "Bearer")


async def test_the_subject_is_who_did_it(secret_server: Stubs) -> None:
    """Whatever names the client sends, the token's subject is recorded."""
    alice = bearer(hs256(sub="alice"))
    flow = video_flow(created_by="mallory", updated_by="mallory")
    created = await secret_server.flows.CreateFlow(
        flows_pb2.CreateFlowRequest(flow=flow), metadata=alice
    )
    assert (created.flow.created_by, created.flow.updated_by) == ("alice", "alice")
    await secret_server.flows.DeleteFlow(
        flows_pb2.DeleteFlowRequest(flow_id=flow.id, soft_delete=True, deleted_by="mallory"),
        metadata=alice,
    )
    deleted = await secret_server.flows.GetFlow(
        flows_pb2.GetFlowRequest(flow_id=flow.id, show_deleted=True), metadata=alice
    )
    assert deleted.flow.deleted_by == "alice"
    source = await secret_server.sources.DeleteSource(
        sources_pb2.DeleteSourceRequest(source_id=flow.source_id, deleted_by="mallory"),
        metadata=alice,
    )
    assert source.source.deleted_by == "alice"


async def test_without_authentication_the_client_names_are_kept(
    tmp_path: Path, database_url: str
) -> None:
    async with own_server(tmp_path, database_url) as stubs:
        flow = video_flow(created_by="mallory")
        created = await stubs.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
        assert created.flow.created_by == "mallory"
