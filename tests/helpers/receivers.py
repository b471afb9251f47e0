"""Webhook receivers for tests: real HTTP servers on free loopback ports that record
what they get and answer as a test tells them (a status, a pause)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WAIT_S = 20


@dataclass
class Delivery:
    """One POST a receiver got."""

    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def event_type(self) -> str:
        return str(self.body["event_type"])

    @property
    def event(self) -> dict[str, Any]:
        return dict(self.body["event"])


@dataclass
class Receiver:
    """A receiver: its URL, what it got, and how it answers the next POSTs."""

    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Statuses to answer, in order, before going back to 200."""
    pause_s: float = 0.0
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    started: int = 0
    """POSTs begun (answered or still being held)."""
    began: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_started(self, count: int) -> None:
        """Until ``count`` POSTs have begun (one being held by ``pause_s`` counts)."""
        async with asyncio.timeout(WAIT_S), self.began:
            await self.began.wait_for(lambda: self.started >= count)

    async def wait_for(self, count: int) -> list[Delivery]:
        """Once at least ``count`` deliveries (accepted or not) have arrived, all of
        them."""
        async with asyncio.timeout(WAIT_S), self.arrived:
            await self.arrived.wait_for(lambda: len(self.deliveries) >= count)
        return list(self.deliveries)

    def accepted(self) -> list[Delivery]:
        """The deliveries answered with 200."""
        return [d for d in self.deliveries if d.headers.get("x-answered") == "200"]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver on a free loopback port, for the block."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    state = Receiver(url=f"http://127.0.0.1:{port}/hook")

    async def hook(request: Request) -> Response:
        async with state.began:
            state.started += 1
            state.began.notify_all()
        if state.pause_s:
            await asyncio.sleep(state.pause_s)
        status = state.answers.pop(0) if state.answers else 200
        headers = {k.lower(): v for k, v in request.headers.items()}
        headers["x-answered"] = str(status)
        delivery = Delivery(headers, json.loads(await request.body()))
        async with state.arrived:
            state.deliveries.append(delivery)
            state.arrived.notify_all()
        if status in (301, 302, 307):
            return Response(status_code=status, headers={"Location": "http://example.com/"})
        return Response(status_code=status)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.01)
        yield state
    finally:
        server.should_exit = True
        await task
        sock.close()
