"""Watching events in tests: a WatchEvents stream read into a queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc

from helpers.factories import video_flow
from tams.v1 import events_pb2, events_pb2_grpc, flows_pb2, flows_pb2_grpc

E = events_pb2
WAIT_S = 20  # a deadline for what must arrive, not a measure of speed


@dataclass
class Watcher:
    """A WatchEvents stream read by a task into a queue, so a test can wait for
    events with a deadline."""

    call: grpc.aio.UnaryStreamCall[E.WatchEventsRequest, E.WatchEventsResponse]
    start_cursor: str = ""
    resume_cursor: str = ""
    queue: asyncio.Queue[E.Event] = field(default_factory=asyncio.Queue)

    async def take(self, count: int) -> list[E.Event]:
        """The next ``count`` events."""
        async with asyncio.timeout(WAIT_S):
            return [await self.queue.get() for _ in range(count)]

    async def nothing_more(self, settle_s: float = 0.5) -> None:
        """No further event arrives (give the stream time to deliver a stray one)."""
        await asyncio.sleep(settle_s)
        assert self.queue.empty(), [e.event_type for e in self.queue._queue]  # type: ignore[attr-defined]


@asynccontextmanager
async def watching(
    channel: grpc.aio.Channel,
    request: E.WatchEventsRequest | None = None,
    metadata: tuple[tuple[str, str], ...] = (),
) -> AsyncIterator[Watcher]:
    """Watch events; the block starts once the stream has given its first cursor."""
    stub = events_pb2_grpc.EventServiceStub(channel)
    watcher = Watcher(stub.WatchEvents(request or E.WatchEventsRequest(), metadata=metadata))
    first = await watcher.call.read()
    assert isinstance(first, E.WatchEventsResponse)
    assert not first.events
    watcher.start_cursor = watcher.resume_cursor = first.resume_cursor

    async def pump() -> None:
        while (response := await watcher.call.read()) is not grpc.aio.EOF:
            assert isinstance(response, E.WatchEventsResponse)
            watcher.resume_cursor = response.resume_cursor
            for event in response.events:
                watcher.queue.put_nowait(event)

    task = asyncio.create_task(pump())
    try:
        yield watcher
    finally:
        watcher.call.cancel()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def create_flow_heard_across(
    write: grpc.aio.Channel, watch: grpc.aio.Channel, *, timeout_s: float = WAIT_S
) -> None:
    """Create a Flow through ``write`` while watching it through ``watch`` (another
    server or process): the watcher must hear exactly its event within ``timeout_s``."""
    flow = video_flow()
    call = events_pb2_grpc.EventServiceStub(watch).WatchEvents(
        E.WatchEventsRequest(flow_ids=[flow.id])
    )
    try:
        await call.read()  # watching from now on
        await flows_pb2_grpc.FlowServiceStub(write).CreateFlow(
            flows_pb2.CreateFlowRequest(flow=flow)
        )
        async with asyncio.timeout(timeout_s):
            heard = await call.read()
    finally:
        call.cancel()
    assert isinstance(heard, E.WatchEventsResponse)
    assert [event.flow.id for event in heard.events] == [flow.id]
