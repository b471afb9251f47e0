"""How TamsClient makes calls: a blocking grpc channel, retries slept; uploads (asyncio
on the HTTP side) on the client's LoopThread."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from tams_client import _auth, _calls
from tams_client._calls import Listing, Method, Page, Result, Rpc, Settings
from tams_client._errors import error_from_rpc
from tams_client._loop_thread import LoopThread
from tams_client._pagers import Cursor, Pager

Item = TypeVar("Item")
Reply = TypeVar("Reply")


class SyncTransport:
    """Runs call descriptions over one blocking grpc channel (thread-safe); every call
    carries ``auth``'s header, renewed once when the server refuses it."""

    def __init__(
        self,
        channel: grpc.Channel,
        settings: Settings,
        uploads: LoopThread,
        auth: _auth.BlockingAuth | None,
    ) -> None:
        self._channel = channel
        self._uploads = uploads
        self.settings = settings
        self.auth = auth

    def close(self) -> None:
        self._uploads.close()
        self._channel.close()

    def run(self, method: Method[Result]) -> Result:
        """The method's result; idempotent calls retried as the policy says."""
        if isinstance(method, _calls.Upload):
            return self._uploads.run(method.work)
        if isinstance(method, _calls.ClientStream):
            return self._client_stream(method)
        timeout, policy = self.settings.resolve(method.options)
        attempts = policy.start(timeout, idempotent=method.idempotent)
        renewable = True
        while True:
            header = self._header()
            try:
                replies = list(self._open(method.rpc, method.request, attempts.timeout(), header))
            except grpc.RpcError as error:
                if self._renewed(error, header) and renewable:
                    renewable = False  # refused before it ran: safe to make again, once
                    continue
                time.sleep(attempts.pause_or_raise(error))
            else:
                return _calls.read_result(method, replies)

    def pager(self, listing: Listing[Page, Item]) -> Pager[Item, Page]:
        """The listing's pager; every iteration lists afresh."""
        return Pager(lambda: self._pages(listing), listing.items)

    def _client_stream(self, call: _calls.ClientStream[Result]) -> Result:
        if isinstance(call.requests, AsyncIterator):
            raise TypeError("TamsClient streams a plain iterable; AsyncTamsClient takes both")
        timeout, _ = self.settings.resolve(call.options, streaming=True)
        send = self._channel.stream_unary(call.rpc.path, _calls.serialize, call.rpc.deserialize)
        header = self._header()
        metadata = _auth.metadata(self.settings.metadata, header)
        try:
            reply: Result = send(call.requests, timeout=timeout, metadata=metadata)
        except grpc.RpcError as error:
            self._renewed(error, header)  # the requests are spent: the next call's
            raise error_from_rpc(error) from None
        return reply

    def _pages(self, listing: Listing[Page, Any]) -> Iterator[Page]:
        cursor = Cursor(listing, self.settings)
        renewable = True
        while not cursor.done:
            header = self._header()
            try:
                for page in self._open(listing.rpc, cursor.request(), cursor.timeout(), header):
                    renewable = True
                    yield cursor.advance(page)
                cursor.closed()
            except grpc.RpcError as error:
                if self._renewed(error, header) and renewable:
                    renewable = False
                    continue
                time.sleep(cursor.pause_or_raise(error))

    def _header(self) -> str | None:
        """The authorization header of the next call, if the client has credentials."""
        return None if self.auth is None else self.auth.header()

    def _renewed(self, error: grpc.RpcError, header: str | None) -> bool:
        """Whether ``error`` refused ``header`` (then dropped) and a new one may be had."""
        if self.auth is None or header is None or not _auth.unauthenticated(error):
            return False
        return self.auth.refused(header)

    def _open(
        self, rpc: Rpc[Reply], request: Message, timeout: float | None, header: str | None
    ) -> Iterator[Reply]:
        """The replies to ``request``: one, or a server stream's."""
        metadata = _auth.metadata(self.settings.metadata, header)
        if rpc.server_streaming:
            stream = self._channel.unary_stream(rpc.path, _calls.serialize, rpc.deserialize)
            responses: Iterator[Reply] = stream(request, timeout=timeout, metadata=metadata)
            try:
                yield from responses
            finally:  # the caller stopped reading: end the stream
                if isinstance(responses, grpc.Future):
                    responses.cancel()
        else:
            unary = self._channel.unary_unary(rpc.path, _calls.serialize, rpc.deserialize)
            yield unary(request, timeout=timeout, metadata=metadata)
