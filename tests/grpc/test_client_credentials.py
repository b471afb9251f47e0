"""The credentials both clients send: a static token, Basic, a token callable and an
OAuth2 client-credentials grant against a real token endpoint, on every kind of call,
refreshed before expiry and once after UNAUTHENTICATED. A recording interceptor on a
real server sees the ``authorization`` metadata of each call."""

from __future__ import annotations

import asyncio
import base64
import itertools
import socket
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest

from helpers.credentials import Recorder, TokenEndpoint, token_endpoint
from helpers.factories import unique_tag, video_flow
from helpers.interceptors import intercepted_server
from helpers.objects import external_post
from tams.v1 import flows_pb2
from tams_client import (
    AsyncPager,
    AsyncTamsClient,
    MediaSegment,
    OAuth2ClientCredentials,
    Pager,
    PlaintextCredentialsWarning,
    RetryPolicy,
    TamsClient,
    Token,
    TokenRequestError,
    UnauthenticatedError,
    tag_filter,
)

FAST = RetryPolicy(attempts=4, initial_backoff_s=0.01, max_backoff_s=0.02)
SECRET = "s3cr3t-cl1ent-secret"
Call = Callable[[Callable[[Any], Any]], Awaitable[Any]]
Connect = Callable[..., Any]  # (**client kwargs) -> async context manager of a Call


@pytest.fixture(scope="module")
async def recorded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, Recorder]]:
    """A server (SQLite) whose outermost interceptor is a Recorder."""
    recorder = Recorder()
    async with intercepted_server(tmp_path_factory.mktemp("credentials"), recorder) as target:
        yield target, recorder


@pytest.fixture
def recorder(recorded: tuple[str, Recorder]) -> Recorder:
    recorded[1].reset()
    return recorded[1]


@pytest.fixture(params=["async", "sync"])
def connect(request: pytest.FixtureRequest, recorded: tuple[str, Recorder]) -> Connect:
    """``async with connect(**kwargs) as call``: a client of either kind with those
    settings; ``await call(work)`` runs ``work(client)`` (the blocking client in a
    thread) and reads a pager it answers into a list."""
    return partial(_connected, request.param, recorded[0])


@asynccontextmanager
async def _connected(kind: str, target: str, **kwargs: Any) -> AsyncIterator[Call]:
    if kind == "async":
        async with AsyncTamsClient(target, retry=FAST, **kwargs) as aio:

            async def call_async(work: Callable[[Any], Any]) -> Any:
                value = work(aio)
                if isinstance(value, AsyncPager):
                    return [item async for item in value]
                return await value

            yield call_async
        return
    blocking = TamsClient(target, retry=FAST, **kwargs)

    async def call_blocking(work: Callable[[Any], Any]) -> Any:
        def run() -> Any:
            value = work(blocking)
            return list(value) if isinstance(value, Pager) else value

        return await asyncio.to_thread(run)

    try:
        yield call_blocking
    finally:
        await asyncio.to_thread(blocking.close)


# Every kind of call carries the header


async def test_a_token_rides_on_every_kind_of_call(recorder: Recorder, connect: Connect) -> None:
    marker = unique_tag()
    async with connect(token="static-token") as call:
        flow = await call(lambda c: c.create_flow(video_flow(tags={"run": marker})))
        await call(
            lambda c: c.batch_create_flows([video_flow(tags={"run": marker}) for _ in range(2)])
        )
        only_mine = flows_pb2.FlowFilter(tags=[tag_filter("run", [marker])])
        assert len(await call(lambda c: c.list_flows(filter=only_mine, page_size=1))) == 3
        posts = [external_post(f"o{i}", f"[{i}:0_{i + 1}:0)") for i in range(30)]
        await call(lambda c: c.stream_register_segments(flow.id, iter(posts)))
        recorder.cuts["StreamSegments"] = 1  # the stream drops after a page: resumed
        assert len(await call(lambda c: c.list_segments(flow.id, page_size=10))) == 30
        result = await call(
            lambda c: c.upload_segments(flow.id, [MediaSegment("[40:0_41:0)", b"ts")])
        )
        assert result.failures == []
    assert recorder.seen["ListFlows"] == ["Bearer static-token"] * 3
    assert recorder.seen["StreamSegments"] == ["Bearer static-token"] * 2
    for method in ("CreateFlow", "BatchCreateFlows", "StreamRegisterSegments"):
        assert recorder.seen[method] == ["Bearer static-token"], method
    for method in ("AllocateStorage", "RegisterSegments"):  # the uploads' API calls
        assert set(recorder.seen[method]) == {"Bearer static-token"}, method


async def test_no_credentials_send_no_header(recorder: Recorder, connect: Connect) -> None:
    async with connect() as call:
        await call(lambda c: c.get_service())
    assert recorder.seen["GetService"] == [None]


async def test_basic_credentials(recorder: Recorder, connect: Connect) -> None:
    async with connect(basic=("ingest", "pa:ss wörd")) as call:
        await call(lambda c: c.get_service())
    expected = "Basic " + base64.b64encode("ingest:pa:ss wörd".encode()).decode()
    assert recorder.seen["GetService"] == [expected]


async def test_a_refused_static_token_is_not_retried(recorder: Recorder, connect: Connect) -> None:
    recorder.refuse_all = True
    async with connect(token="revoked") as call:
        with pytest.raises(UnauthenticatedError):
            await call(lambda c: c.get_service())
    assert recorder.seen["GetService"] == ["Bearer revoked"]


# Token callables


def _counting(make: Callable[[int], str | Token]) -> tuple[Callable[[], str | Token], list[int]]:
    calls: list[int] = []

    def source() -> str | Token:
        calls.append(len(calls) + 1)
        return make(len(calls))

    return source, calls


async def test_a_callable_token_is_kept_until_shortly_before_it_expires(
    recorder: Recorder, connect: Connect
) -> None:
    source, calls = _counting(lambda n: Token(f"t{n}", expires_at=time.time() + 2))
    async with connect(token=source) as call:
        for _ in range(3):
            await call(lambda c: c.get_service())
        await asyncio.sleep(1.2)  # within the margin (half of a 2 s life): renewed
        await call(lambda c: c.get_service())
    assert recorder.seen["GetService"] == ["Bearer t1"] * 3 + ["Bearer t2"]
    assert calls == [1, 2]


async def test_a_plain_string_from_a_callable_is_cached(
    recorder: Recorder, connect: Connect
) -> None:
    source, calls = _counting(lambda n: f"plain{n}")
    async with connect(token=source) as call:
        for _ in range(3):
            await call(lambda c: c.get_service())
    assert recorder.seen["GetService"] == ["Bearer plain1"] * 3
    assert calls == [1]


async def test_a_callable_is_asked_again_when_its_token_is_refused(
    recorder: Recorder, connect: Connect
) -> None:
    source, calls = _counting(lambda n: f"t{n}")
    recorder.refused.add("Bearer t1")
    async with connect(token=source) as call:
        flow = await call(lambda c: c.create_flow(video_flow()))  # not idempotent: refused
        assert (await call(lambda c: c.get_flow(flow.id))).id == flow.id  # before it ran
    assert recorder.seen["CreateFlow"] == ["Bearer t1", "Bearer t2"]
    assert recorder.seen["GetFlow"] == ["Bearer t2"]
    assert calls == [1, 2]


async def test_an_async_callable(recorder: Recorder, recorded: tuple[str, Recorder]) -> None:
    issued = itertools.count(1)

    async def source() -> Token:
        await asyncio.sleep(0)
        return Token(f"a{next(issued)}", expires_at=None)

    async with AsyncTamsClient(recorded[0], token=source) as client:
        await asyncio.gather(*(client.get_service() for _ in range(10)))
    assert recorder.seen["GetService"] == ["Bearer a1"] * 10


async def test_the_blocking_client_refuses_an_async_callable(
    recorded: tuple[str, Recorder],
) -> None:
    async def source() -> str:
        return "never"

    def work() -> None:
        with TamsClient(recorded[0], token=source) as client, pytest.raises(TypeError):
            client.get_service()

    await asyncio.to_thread(work)


# OAuth2 client credentials, against a real token endpoint


def _grant(endpoint: TokenEndpoint, **fields: Any) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(endpoint.url, endpoint.client_id, SECRET, **fields)


async def test_client_credentials_are_fetched_once_for_many_calls(
    recorder: Recorder, connect: Connect
) -> None:
    with token_endpoint(TokenEndpoint("ingest-bot", SECRET)) as endpoint:
        grant = _grant(
            endpoint, scopes=["tams-api/read", "tams-api/write"], audience="https://tams"
        )
        async with connect(token=grant) as call:
            flow = await call(lambda c: c.create_flow(video_flow()))
            for _ in range(5):
                await call(lambda c: c.get_flow(flow.id))
            await call(lambda c: c.upload_segments(flow.id, [MediaSegment("[0:0_1:0)", b"x")]))
    [grant_seen] = endpoint.grants
    assert grant_seen.basic == ("ingest-bot", SECRET)  # client_secret_basic by default
    assert grant_seen.form == {
        "grant_type": "client_credentials",
        "scope": "tams-api/read tams-api/write",
        "audience": "https://tams",
    }
    assert recorder.seen["GetFlow"] == ["Bearer tok-1"] * 5
    assert set(recorder.seen["AllocateStorage"]) == {"Bearer tok-1"}  # shared with uploads


async def test_concurrent_calls_wait_for_one_token_request(
    recorder: Recorder, recorded: tuple[str, Recorder]
) -> None:
    with token_endpoint(TokenEndpoint("bot", SECRET)) as endpoint:
        async with AsyncTamsClient(recorded[0], token=_grant(endpoint)) as client:
            await asyncio.gather(*(client.get_service() for _ in range(20)))

        def blocking() -> None:
            with TamsClient(recorded[0], token=_grant(endpoint)) as client:
                list(_threads(client.get_service, 10))

        await asyncio.to_thread(blocking)
    assert len(endpoint.grants) == 2  # one per client
    assert set(recorder.seen["GetService"]) == {"Bearer tok-1", "Bearer tok-2"}


def _threads(call: Callable[[], Any], count: int) -> list[Any]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


async def test_client_secret_post(recorder: Recorder, connect: Connect) -> None:
    with token_endpoint(TokenEndpoint("bot", SECRET)) as endpoint:
        async with connect(token=_grant(endpoint, auth_method="client_secret_post")) as call:
            await call(lambda c: c.get_service())
    [grant_seen] = endpoint.grants
    assert grant_seen.basic is None
    assert grant_seen.form == {
        "grant_type": "client_credentials",
        "client_id": "bot",
        "client_secret": SECRET,
    }
    assert recorder.seen["GetService"] == ["Bearer tok-1"]


async def test_a_token_is_renewed_before_expires_in(recorder: Recorder, connect: Connect) -> None:
    with token_endpoint(TokenEndpoint("bot", SECRET, expires_in=2)) as endpoint:
        async with connect(token=_grant(endpoint)) as call:
            await call(lambda c: c.get_service())
            await call(lambda c: c.get_service())
            await asyncio.sleep(1.2)
            await call(lambda c: c.get_service())
    assert len(endpoint.grants) == 2
    assert recorder.seen["GetService"] == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


async def test_a_refused_token_is_renewed_and_the_call_made_once_more(
    recorder: Recorder, connect: Connect
) -> None:
    recorder.refused.add("Bearer tok-1")  # e.g. revoked, or the server's keys rotated
    marker = unique_tag()
    only_mine = flows_pb2.FlowFilter(tags=[tag_filter("run", [marker])])
    with token_endpoint(TokenEndpoint("bot", SECRET)) as endpoint:
        async with connect(token=_grant(endpoint)) as call:
            for _ in range(2):
                await call(lambda c: c.create_flow(video_flow(tags={"run": marker})))
            recorder.refused.add("Bearer tok-2")
            assert len(await call(lambda c: c.list_flows(filter=only_mine, page_size=1))) == 2
    assert recorder.seen["CreateFlow"] == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"]
    assert recorder.seen["ListFlows"] == ["Bearer tok-2", "Bearer tok-3", "Bearer tok-3"]
    assert len(endpoint.grants) == 3


async def test_a_second_refusal_is_raised_not_retried(recorder: Recorder, connect: Connect) -> None:
    recorder.refuse_all = True
    with token_endpoint(TokenEndpoint("bot", SECRET)) as endpoint:
        async with connect(token=_grant(endpoint)) as call:
            with pytest.raises(UnauthenticatedError):
                await call(lambda c: c.get_service())
            with pytest.raises(UnauthenticatedError):  # a client stream: not made again
                await call(lambda c: c.stream_register_segments("f", iter([])))
            recorder.refuse_all = False
            await call(lambda c: c.get_service())  # a refused token is not sent again
    assert recorder.seen["GetService"] == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-4"]
    assert recorder.seen["StreamRegisterSegments"] == ["Bearer tok-3"]
    assert len(endpoint.grants) == 4


async def test_a_refusing_token_endpoint_is_a_clear_error(connect: Connect) -> None:
    with token_endpoint(TokenEndpoint("bot", "the-right-secret")) as endpoint:
        async with connect(token=_grant(endpoint)) as call:
            with pytest.raises(TokenRequestError) as caught:
                await call(lambda c: c.get_service())
    error = caught.value
    assert (error.status_code, error.oauth_error) == (401, "invalid_client")
    assert (
        str(error)
        == f"the token endpoint {endpoint.url} answered HTTP 401 (invalid_client: bad client)"
    )
    assert isinstance(error, UnauthenticatedError)
    assert SECRET not in "".join(traceback.format_exception(error))


@pytest.mark.parametrize(
    "refusal",
    [(500, {}), (200, {"token_type": "Bearer"}), (200, {"access_token": "x", "token_type": "mac"})],
)
async def test_an_unusable_answer_is_a_clear_error(
    connect: Connect, refusal: tuple[int, dict[str, Any]]
) -> None:
    with token_endpoint(TokenEndpoint("bot", SECRET, refusal=refusal)) as endpoint:
        async with connect(token=_grant(endpoint)) as call:
            with pytest.raises(
                TokenRequestError, match=r"^the token endpoint http://127\.0\.0\.1:"
            ):
                await call(lambda c: c.get_service())


async def test_an_unreachable_token_endpoint_is_a_clear_error(connect: Connect) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/token?client_secret={SECRET}"
    async with connect(token=OAuth2ClientCredentials(url, "bot", SECRET)) as call:
        with pytest.raises(TokenRequestError, match="could not be reached") as caught:
            await call(lambda c: c.get_service())
    assert caught.value.status_code is None
    assert SECRET not in str(caught.value)


# Checks that need no server


def test_secrets_stay_out_of_reprs() -> None:
    assert SECRET not in repr(OAuth2ClientCredentials("https://idp/token", "bot", SECRET))
    assert SECRET not in repr(Token(SECRET, expires_at=1.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token": ""}, "printable ASCII"),
        ({"token": f"two {SECRET}"}, "spaces"),
        ({"token": f"{SECRET}\n"}, "printable ASCII"),
        ({"token": "x" * 20_000}, "printable ASCII"),
        ({"token": SECRET, "basic": ("u", "p")}, "not both"),
        ({"token": SECRET, "metadata": [("Authorization", "x")]}, "already has"),
        ({"basic": ("a:b", SECRET)}, "cannot contain"),
    ],
)
def test_bad_credentials_are_refused_without_quoting_them(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        TamsClient("127.0.0.1:1", **kwargs)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "target", ["10.1.2.3:50051", "tams.example:443", "dns:///tams.example:50051", "[2001:db8::1]:1"]
)
async def test_credentials_in_clear_beyond_loopback_warn(target: str) -> None:
    with pytest.warns(PlaintextCredentialsWarning, match="in clear"):
        TamsClient(target, token="t").close()
    with pytest.warns(PlaintextCredentialsWarning):
        await AsyncTamsClient(target, basic=("u", "p")).close()
    TamsClient(target).close()  # nothing to protect: no warning


@pytest.mark.parametrize(
    "target",
    ["127.0.0.1:50051", "localhost:50051", "[::1]:50051", "dns:///localhost:1", "ipv4:127.0.0.2:1",
     "unix:/tmp/tams.sock"],
)  # fmt: skip
def test_credentials_to_loopback_do_not_warn(target: str) -> None:
    TamsClient(target, token="t").close()  # filterwarnings = error would fail this
