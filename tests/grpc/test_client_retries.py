"""Retries, deadlines and stream resumption of both clients, against a real server
whose outermost interceptor injects failures: the first calls of a method fail with
UNAVAILABLE, hang, or (streams) are cut after a few pages."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from grpc_interceptor.server import AsyncServerInterceptor

from helpers.factories import unique_tag, video_flow
from helpers.interceptors import cut_after, intercepted_server
from helpers.objects import external_post
from tams.v1 import flows_pb2
from tams_client import (
    AsyncPager,
    AsyncTamsClient,
    DeadlineExceededError,
    NotFoundError,
    Pager,
    RetryPolicy,
    TamsClient,
    UnavailableError,
    tag_filter,
)

Context = grpc.aio.ServicerContext[Any, Any]
Handler = Callable[[Any, Context], Any]
FAST = RetryPolicy(attempts=4, initial_backoff_s=0.01, max_backoff_s=0.02)


@dataclass
class Fault:
    """Fail ``times`` calls after the first ``skip``: after ``after_messages`` messages
    of a stream (0: before the servicer runs), after holding the call ``hold_s``."""

    times: int
    skip: int = 0
    after_messages: int = 0
    hold_s: float = 0.0
    lost_reply: bool = False
    """Run the (unary) call, then fail it: its work is done but the reply is lost."""


class Faults(AsyncServerInterceptor):
    """Injects the faults set by method name; counts and keeps every request."""

    def __init__(self) -> None:
        self.rules: dict[str, Fault] = {}
        self.calls: Counter[str] = Counter()
        self.requests: defaultdict[str, list[Any]] = defaultdict(list)

    def reset(self) -> None:
        self.rules.clear()
        self.calls.clear()
        self.requests.clear()

    async def intercept(self, method: Handler, request: Any, context: Context, path: str) -> Any:
        name = path.rsplit("/", 1)[-1]
        self.calls[name] += 1
        self.requests[name].append(request)
        rule = self.rules.get(name)
        if rule is None or rule.times <= 0 or self.calls[name] <= rule.skip:
            return await _passed_on(method(request, context))
        rule.times -= 1
        if rule.lost_reply:
            await _passed_on(method(request, context))
            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected lost reply")
        await asyncio.sleep(rule.hold_s)
        if not rule.after_messages:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected failure")
        return cut_after(method(request, context), context, rule.after_messages, "injected cut")


async def _passed_on(response: Any) -> Any:
    return response if hasattr(response, "__aiter__") else await response


@pytest.fixture(scope="module")
async def faulty(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, Faults]]:
    """A server (SQLite) with a Faults interceptor; its target and the interceptor."""
    faults = Faults()
    async with intercepted_server(tmp_path_factory.mktemp("faulty"), faults) as target:
        yield target, faults


@pytest.fixture
def faults(faulty: tuple[str, Faults]) -> Faults:
    faulty[1].reset()
    return faulty[1]


Run = Callable[[Callable[[Any], Any]], Awaitable[Any]]


@pytest.fixture(params=["async", "sync"])
def run(request: pytest.FixtureRequest, faulty: tuple[str, Faults]) -> Run:
    """Runs ``work(client)`` with either client (the blocking one in a thread): work
    returns an awaitable (async client) or a value (blocking client); pagers are
    read into lists by ``read``."""
    target = faulty[0]

    async def with_async(work: Callable[[Any], Any]) -> Any:
        async with AsyncTamsClient(target, retry=FAST) as client:
            return await _settled(work(client))

    async def with_sync(work: Callable[[Any], Any]) -> Any:
        def blocking() -> Any:
            with TamsClient(target, retry=FAST) as client:
                return _read_sync(work(client))

        return await asyncio.to_thread(blocking)

    return with_async if request.param == "async" else with_sync


async def _settled(value: Any) -> Any:
    if isinstance(value, AsyncPager):
        return [item async for item in value]
    return await value


def _read_sync(value: Any) -> Any:
    return list(value) if isinstance(value, Pager) else value


async def _flow(target: str) -> flows_pb2.Flow:
    async with AsyncTamsClient(target) as client:
        return await client.create_flow(video_flow())


async def test_idempotent_calls_are_retried(
    faulty: tuple[str, Faults], faults: Faults, run: Run
) -> None:
    flow = await _flow(faulty[0])
    faults.rules["GetFlow"] = Fault(times=2)
    got = await run(lambda c: c.get_flow(flow.id))
    assert got.id == flow.id
    assert faults.calls["GetFlow"] == 3


async def test_creates_are_not_retried(
    faulty: tuple[str, Faults], faults: Faults, run: Run
) -> None:
    flow = video_flow()
    faults.rules["CreateFlow"] = Fault(times=1)
    with pytest.raises(UnavailableError):
        await run(lambda c: c.create_flow(flow))
    assert faults.calls["CreateFlow"] == 1
    with pytest.raises(NotFoundError):
        await run(lambda c: c.get_flow(flow.id))


async def test_a_registration_whose_reply_was_lost_is_retried(
    faulty: tuple[str, Faults], faults: Faults, run: Run
) -> None:
    """The server stored the Segments but the reply never came: the retry posts them
    again, identical, and succeeds (the server takes an identical repost as done)."""
    flow = await _flow(faulty[0])
    posts = [external_post(f"lost-{flow.id}-{i}", f"[{i}:0_{i + 1}:0)") for i in range(5)]
    faults.rules["RegisterSegments"] = Fault(times=1, lost_reply=True)
    response = await run(lambda c: c.register_segments(flow.id, posts))
    assert (response.registered_count, list(response.failed_segments)) == (5, [])
    assert faults.calls["RegisterSegments"] == 2
    listed = await run(lambda c: c.list_segments(flow.id))
    assert [s.object_id for s in listed] == [p.object_id for p in posts]


async def test_a_call_overrides_the_retry_policy(
    faulty: tuple[str, Faults], faults: Faults, run: Run
) -> None:
    flow = await _flow(faulty[0])
    faults.rules["GetFlow"] = Fault(times=1)
    with pytest.raises(UnavailableError):
        await run(lambda c: c.get_flow(flow.id, retry=RetryPolicy(attempts=1)))
    assert faults.calls["GetFlow"] == 1


async def test_the_overall_deadline_ends_the_retries(
    faulty: tuple[str, Faults], faults: Faults, run: Run
) -> None:
    flow = await _flow(faulty[0])
    faults.rules["GetFlow"] = Fault(times=10_000)
    patient = RetryPolicy(
        attempts=10_000, initial_backoff_s=0.05, max_backoff_s=0.05, deadline_s=0.5
    )
    started = time.monotonic()
    # The last attempt gets what the deadline leaves, and may run out of it.
    with pytest.raises((UnavailableError, DeadlineExceededError)):
        await run(lambda c: c.get_flow(flow.id, retry=patient))
    assert time.monotonic() - started < 2.0
    assert 3 <= faults.calls["GetFlow"] < 100


async def test_the_deadline_cuts_each_attempt(
    faulty: tuple[str, Faults], faults: Faults, run: Run
) -> None:
    flow = await _flow(faulty[0])
    faults.rules["GetFlow"] = Fault(times=10_000, hold_s=30.0)
    short = RetryPolicy(attempts=10, initial_backoff_s=0.01, deadline_s=0.5)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        await run(lambda c: c.get_flow(flow.id, timeout=None, retry=short))
    assert time.monotonic() - started < 2.0
    assert faults.calls["GetFlow"] == 1  # nothing was left for a second attempt


async def test_a_call_sets_its_own_timeout(
    faulty: tuple[str, Faults], faults: Faults, run: Run
) -> None:
    flow = await _flow(faulty[0])
    faults.rules["GetFlow"] = Fault(times=1, hold_s=30.0)
    started = time.monotonic()
    assert (await run(lambda c: c.get_flow(flow.id, timeout=0.3))).id == flow.id
    assert time.monotonic() - started < 2.0
    assert faults.calls["GetFlow"] == 2  # the slow attempt timed out and was retried


async def _tagged_flows(target: str, count: int) -> tuple[list[str], flows_pb2.FlowFilter]:
    """``count`` new Flows' ids, and the filter that lists only them."""
    marker = unique_tag()
    async with AsyncTamsClient(target) as client:
        made = await client.batch_create_flows(
            [video_flow(tags={"run": marker}) for _ in range(count)]
        )
    return [f.id for f in made], flows_pb2.FlowFilter(tags=[tag_filter("run", [marker])])


async def test_a_failed_page_is_fetched_again(
    faulty: tuple[str, Faults], faults: Faults, run: Run
) -> None:
    made, only_mine = await _tagged_flows(faulty[0], 25)
    faults.rules["ListFlows"] = Fault(times=1, skip=1)
    listed = await run(lambda c: c.list_flows(filter=only_mine, page_size=10))
    assert sorted(f.id for f in listed) == sorted(made)
    assert faults.calls["ListFlows"] == 4


async def test_page_token_starts_a_listing_midway(faulty: tuple[str, Faults], run: Run) -> None:
    _, only_mine = await _tagged_flows(faulty[0], 7)
    async with AsyncTamsClient(faulty[0]) as client:
        everything = [f.id async for f in client.list_flows(filter=only_mine, page_size=3)]
        first = await anext(client.list_flows(filter=only_mine, page_size=3).pages())
    rest = await run(
        lambda c: c.list_flows(filter=only_mine, page_size=3, page_token=first.next_page_token)
    )
    assert [f.id for f in rest] == everything[3:]


@pytest.mark.parametrize("cut_after", [0, 2])
async def test_a_cut_stream_resumes_from_the_last_page(
    faulty: tuple[str, Faults], faults: Faults, run: Run, cut_after: int
) -> None:
    flow = await _flow(faulty[0])
    async with AsyncTamsClient(faulty[0]) as client:
        await client.stream_register_segments(
            flow.id, [external_post(f"o{i}", f"[{i}:0_{i + 1}:0)") for i in range(1000)]
        )
    faults.rules["StreamSegments"] = Fault(times=2, after_messages=cut_after)
    got = await run(lambda c: c.list_segments(flow.id, page_size=100))
    assert [s.object_id for s in got] == [f"o{i}" for i in range(1000)]
    assert faults.calls["StreamSegments"] == 3
    tokens = [r.page_token for r in faults.requests["StreamSegments"]]
    assert tokens[0] == ""
    assert all(tokens[1:]) == (cut_after > 0)


async def test_stream_pages_of_the_blocking_client(
    faulty: tuple[str, Faults], faults: Faults
) -> None:
    flow = await _flow(faulty[0])

    def work() -> list[int]:
        with TamsClient(faulty[0], retry=FAST) as client:
            client.stream_register_segments(
                flow.id, (external_post(f"o{i}", f"[{i}:0_{i + 1}:0)") for i in range(250))
            )
            faults.rules["StreamSegments"] = Fault(times=1, after_messages=1)
            return [len(p.segments) for p in client.list_segments(flow.id, page_size=100).pages()]

    assert await asyncio.to_thread(work) == [100, 100, 50]


async def test_blocking_uploads_share_one_loop_and_work_inside_a_running_loop(
    faulty: tuple[str, Faults],
) -> None:
    flow = await _flow(faulty[0])

    def uploads_thread_count() -> int:
        return sum(t.name == "tams-client-uploads" for t in threading.enumerate())

    async def inside_a_loop() -> tuple[list[str], int]:
        # A blocking call from a thread whose event loop is running: asyncio.run
        # would refuse.
        with TamsClient(faulty[0]) as client:
            ids = [client.upload_object(flow.id, b"x" * n) for n in (10, 20)]
            return ids, uploads_thread_count()

    ids, threads = await asyncio.to_thread(asyncio.run, inside_a_loop())
    assert len(set(ids)) == 2
    assert threads == 1
    assert uploads_thread_count() == 0
