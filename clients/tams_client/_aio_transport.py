"""How AsyncTamsClient makes calls: a grpc.aio channel, retries awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from google.protobuf.message import Message

from tams_client import _auth, _calls
from tams_client._calls import Listing, Method, Page, Result, Rpc, Settings
from tams_client._errors import error_from_rpc
from tams_client._pagers import AsyncPager, Cursor

if TYPE_CHECKING:
    from tams_client._async_client import AsyncTamsClient

Item = TypeVar("Item")
Reply = TypeVar("Reply")


class AioTransport:
    """Runs call descriptions over one grpc.aio channel, for ``client``; every call
    carries ``auth``'s header, renewed once when the server refuses it."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        settings: Settings,
        client: AsyncTamsClient,
        auth: _auth.AsyncAuth | None,
    ) -> None:
        self._channel = channel
        self._client = client
        self.settings = settings
        self.auth = auth

    async def close(self) -> None:
        await self._channel.close()

    async def run(self, method: Method[Result]) -> Result:
        """The method's result; idempotent calls retried as the policy says."""
        if isinstance(method, _calls.Upload):
            return await method.work(self._client)
        if isinstance(method, _calls.ClientStream):
            return await self._client_stream(method)
        timeout, policy = self.settings.resolve(method.options)
        attempts = policy.start(timeout, idempotent=method.idempotent)
        renewable = True
        while True:
            header = await self._header()
            try:
                return await self._attempt(method, attempts.timeout(), header)
            except grpc.RpcError as error:
                if await self._renewed(error, header) and renewable:
                    renewable = False  # refused before it ran: safe to make again, once
                    continue
                pause = attempts.pause_or_raise(error)
            await asyncio.sleep(pause)

    def pager(self, listing: Listing[Page, Item]) -> AsyncPager[Item, Page]:
        """The listing's pager; every iteration lists afresh."""
        return AsyncPager(lambda: self._pages(listing), listing.items)

    async def _client_stream(self, call: _calls.ClientStream[Result]) -> Result:
        attempt_timeout, _ = self.settings.resolve(call.options, streaming=True)
        send = self._channel.stream_unary(call.rpc.path, _calls.serialize, call.rpc.deserialize)
        header = await self._header()
        metadata = _auth.metadata(self.settings.metadata, header)
        try:
            reply: Result = await send(call.requests, timeout=attempt_timeout, metadata=metadata)
        except grpc.RpcError as error:
            await self._renewed(error, header)  # the requests are spent: the next call's
            raise error_from_rpc(error) from None
        return reply

    async def _attempt(
        self, call: _calls.Call[Any, Result], attempt_timeout: float | None, header: str | None
    ) -> Result:
        replies = [
            reply async for reply in self._open(call.rpc, call.request, attempt_timeout, header)
        ]
        return _calls.read_result(call, replies)

    async def _pages(self, listing: Listing[Page, Any]) -> AsyncIterator[Page]:
        cursor = Cursor(listing, self.settings)
        renewable = True
        while not cursor.done:
            header = await self._header()
            try:
                async for page in self._open(
                    listing.rpc, cursor.request(), cursor.timeout(), header
                ):
                    renewable = True
                    yield cursor.advance(page)
                cursor.closed()
            except grpc.RpcError as error:
                if await self._renewed(error, header) and renewable:
                    renewable = False
                    continue
                await asyncio.sleep(cursor.pause_or_raise(error))

    async def _header(self) -> str | None:
        """The authorization header of the next call, if the client has credentials."""
        return None if self.auth is None else await self.auth.header()

    async def _renewed(self, error: grpc.RpcError, header: str | None) -> bool:
        """Whether ``error`` refused ``header`` (then dropped) and a new one may be had."""
        if self.auth is None or header is None or not _auth.unauthenticated(error):
            return False
        return await self.auth.refused(header)

    async def _open(
        self,
        rpc: Rpc[Reply],
        request: Message,
        attempt_timeout: float | None,
        header: str | None,
    ) -> AsyncIterator[Reply]:
        """The replies to ``request``: one, or a server stream's."""
        metadata = _auth.metadata(self.settings.metadata, header)
        if rpc.server_streaming:
            stream = self._channel.unary_stream(rpc.path, _calls.serialize, rpc.deserialize)
            async for reply in stream(request, timeout=attempt_timeout, metadata=metadata):
                yield reply
        else:
            unary = self._channel.unary_unary(rpc.path, _calls.serialize, rpc.deserialize)
            yield await unary(request, timeout=attempt_timeout, metadata=metadata)
