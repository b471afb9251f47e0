"""tams_client's watch_events(): events in commit order, and a dropped stream resumed
from the last cursor received, so nothing is missed or repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_interceptor.server import AsyncServerInterceptor

from helpers.factories import video_flow
from helpers.interceptors import cut_after, intercepted_server
from tams.v1 import events_pb2, flows_pb2
from tams_client import AsyncTamsClient, RetryPolicy, TamsClient

Context = grpc.aio.ServicerContext[Any, Any]
FAST = RetryPolicy(attempts=4, initial_backoff_s=0.01, max_backoff_s=0.02, deadline_s=None)
WAIT_S = 20


class CutWatches(AsyncServerInterceptor):
    """Cuts the first ``cuts`` WatchEvents streams after ``after`` messages each;
    keeps every WatchEvents request."""

    def __init__(self, cuts: int, after: int) -> None:
        self.cuts = cuts
        self.after = after
        self.requests: list[events_pb2.WatchEventsRequest] = []

    async def intercept(
        self, method: Callable[[Any, Context], Any], request: Any, context: Context, path: str
    ) -> Any:
        response = method(request, context)
        if not path.endswith("/WatchEvents"):
            return response if hasattr(response, "__aiter__") else await response
        self.requests.append(request)
        if self.cuts <= 0:
            return response
        self.cuts -= 1
        return cut_after(response, context, self.after, "injected cut")


@pytest.fixture
async def cut_server(tmp_path: Path) -> AsyncIterator[tuple[str, CutWatches]]:
    # The start message and two events' messages go through, then the stream drops.
    cuts = CutWatches(cuts=2, after=3)
    async with intercepted_server(tmp_path, cuts) as target:
        yield target, cuts


async def make_changes(target: str, flow: flows_pb2.Flow, count: int) -> None:
    async with AsyncTamsClient(target) as client:
        await client.create_flow(flow)
        for i in range(count - 1):
            await client.set_flow_tag(flow.id, "step", str(i))


async def test_async_watch_resumes_after_a_dropped_stream(
    cut_server: tuple[str, CutWatches],
) -> None:
    target, cuts = cut_server
    flow = video_flow()
    seen: list[events_pb2.Event] = []
    async with AsyncTamsClient(target, retry=FAST) as client:
        events = client.watch_events(flow_ids=[flow.id]).__aiter__()
        first = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(0.2)  # the watch is open (it starts from now)
        await make_changes(target, flow, 8)
        async with asyncio.timeout(WAIT_S):
            seen.append(await first)
            while len(seen) < 8:
                seen.append(await events.__anext__())
        await events.aclose()  # type: ignore[attr-defined]
    assert seen[0].event_type == events_pb2.EVENT_TYPE_FLOW_CREATED
    assert [e.flow.tags["step"].string_value for e in seen[1:]] == [str(i) for i in range(7)]
    cursors = [int(e.cursor) for e in seen]
    assert cursors == sorted(set(cursors))
    # The stream was cut at least once (how many events a message carries depends
    # on timing) and each time reopened after the last event received.
    resumed = [r.after_cursor for r in cuts.requests[1:]]
    assert resumed
    assert cuts.requests[0].after_cursor == ""
    assert set(resumed) <= {e.cursor for e in seen}
    assert [int(c) for c in resumed] == sorted({int(c) for c in resumed})
    assert all(list(r.flow_ids) == [flow.id] for r in cuts.requests)


async def test_blocking_watch_takes_tams_event_names(cut_server: tuple[str, CutWatches]) -> None:
    target, cuts = cut_server
    flow = video_flow()
    async with AsyncTamsClient(target) as client:
        start = await anext(_first_page(client))
        start_cursor = start.resume_cursor
    await make_changes(target, flow, 4)

    def watch() -> list[events_pb2.Event]:
        with TamsClient(target, retry=FAST) as client:
            events = client.watch_events(
                after_cursor=start_cursor, event_types=["flows/updated"], flow_ids=[flow.id]
            )
            seen: list[events_pb2.Event] = []
            for event in events:
                seen.append(event)
                if len(seen) == 3:
                    return seen
        raise AssertionError("the watch ended")

    seen = await asyncio.wait_for(asyncio.to_thread(watch), WAIT_S)
    assert [e.event_type for e in seen] == [events_pb2.EVENT_TYPE_FLOW_UPDATED] * 3
    assert [e.flow.tags["step"].string_value for e in seen] == ["0", "1", "2"]
    assert cuts.requests[1].after_cursor == start_cursor


async def _first_page(client: AsyncTamsClient) -> AsyncIterator[events_pb2.WatchEventsResponse]:
    async for page in client.watch_events().pages():
        yield page
        return


def test_unknown_event_names_are_refused_before_any_call() -> None:
    with (
        TamsClient("127.0.0.1:1") as client,
        pytest.raises(ValueError, match="unknown event type 'flows/renamed'"),
    ):
        client.watch_events(event_types=["flows/renamed"])
