"""What a call of the API is, whichever client makes it: the RPC, the request, how
the result is read from the reply, whether a retry is safe, and the caller's options.
The blocking and the asyncio transports run these descriptions; neither knows any
particular call."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import grpc
from google.protobuf.message import Message

from tams_client._retry import RetryPolicy

if TYPE_CHECKING:
    from tams_client._async_client import AsyncTamsClient

Reply = TypeVar("Reply")
Result = TypeVar("Result")
Item = TypeVar("Item")
AnyMessage = TypeVar("AnyMessage", bound=Message)


Page = TypeVar("Page", bound=Message)
"""A listing's reply: one page, and where the next starts."""


class Default(enum.Enum):
    """The client's own setting, when a call names none."""

    CLIENT = "the client's setting"


DEFAULT: Literal[Default.CLIENT] = Default.CLIENT
Timeout = float | None | Literal[Default.CLIENT]
"""Seconds for one attempt, None for no limit, or DEFAULT for the client's."""


@dataclass(frozen=True)
class Options:
    """A call's own timeout and retry policy, over the client's."""

    timeout: Timeout = DEFAULT
    retry: RetryPolicy | None = None


@dataclass(frozen=True)
class Settings:
    """A client's defaults, and the credentials every call carries."""

    timeout: float | None
    retry: RetryPolicy
    metadata: tuple[tuple[str, str], ...]

    def resolve(
        self, options: Options, *, streaming: bool = False
    ) -> tuple[float | None, RetryPolicy]:
        """The timeout and retry policy of a call with ``options``. A stream runs as
        long as it has messages to carry: only a timeout the call names bounds it."""
        if options.timeout is not DEFAULT:
            timeout = options.timeout
        else:
            timeout = None if streaming else self.timeout
        return timeout, options.retry or self.retry


@dataclass(frozen=True)
class Rpc(Generic[Reply]):
    """One method of a tams.v1 service, as channels dial it."""

    path: str
    server_streaming: bool
    deserialize: Callable[[bytes], Reply]


def rpc(reply_type: type[AnyMessage]) -> Rpc[AnyMessage]:
    """The one method of the services in ``reply_type``'s proto file that answers
    ``reply_type``; looked up in the descriptors, so a mistake fails at import."""
    [found] = [
        method
        for service in reply_type.DESCRIPTOR.file.services_by_name.values()
        for method in service.methods
        if method.output_type is reply_type.DESCRIPTOR
    ]
    path = f"/{found.containing_service.full_name}/{found.name}"
    return Rpc(path, found.server_streaming, reply_type.FromString)


@dataclass(frozen=True)
class Unary(Generic[Reply, Result]):
    """A call answered once: ``result`` reads the reply."""

    rpc: Rpc[Reply]
    request: Message
    result: Callable[[Reply], Result]
    idempotent: bool
    options: Options


@dataclass(frozen=True)
class Collected(Generic[Reply, Result]):
    """A server-streaming call read to its end: ``result`` reads every reply."""

    rpc: Rpc[Reply]
    request: Message
    result: Callable[[list[Reply]], Result]
    idempotent: bool
    options: Options


def _next_page_token(page: Any) -> str:
    return str(page.next_page_token)


@dataclass(frozen=True)
class Listing(Generic[Page, Item]):
    """A paged listing (always idempotent). A unary RPC is called once a page; a
    server-streaming one sends every page on one stream, reopened from the last
    page's token when it drops. Options apply to each call or each stream.

    A page's ``next_token`` goes into the request's ``token_field`` to go on from
    it: ``next_page_token`` and ``page_token`` for listings; a stream of events
    resumes the same way from each reply's cursor."""

    rpc: Rpc[Page]
    request: Message
    items: Callable[[Page], Sequence[Item]]
    options: Options
    next_token: Callable[[Page], str] = _next_page_token
    token_field: str = "page_token"

    def request_at(self, token: str) -> Message:
        """The request of the page ``token`` names (the first page's for "")."""
        if not token:
            return self.request
        paged = type(self.request)()
        paged.CopyFrom(self.request)
        setattr(paged, self.token_field, token)
        return paged


@dataclass(frozen=True)
class ClientStream(Generic[Reply]):
    """A client-streaming call: ``requests`` are read once, so it is never retried;
    the blocking client takes a plain iterable only."""

    rpc: Rpc[Reply]
    requests: Iterator[Message] | AsyncIterator[Message]
    options: Options


@dataclass(frozen=True)
class Upload(Generic[Result]):
    """Work on the HTTP side too (PUTs to the object store), asyncio throughout:
    ``work`` gets an AsyncTamsClient for its API calls."""

    work: Callable[[AsyncTamsClient], Coroutine[Any, Any, Result]]


Call = Unary[Reply, Result] | Collected[Reply, Result]
"""A call answered once, retried when idempotent."""

Method = Call[Any, Result] | ClientStream[Result] | Upload[Result]
"""Whatever a ``unary`` method describes."""


def read_result(call: Call[Reply, Result], replies: list[Reply]) -> Result:
    """What ``call`` answers, read from its replies."""
    if isinstance(call, Collected):
        return call.result(replies)
    [reply] = replies
    return call.result(reply)


def serialize(message: Message) -> bytes:
    """A request on the wire."""
    return message.SerializeToString()


@dataclass(frozen=True)
class Endpoint:
    """Where a client's channel goes: the target, channel options, and TLS channel
    credentials (None: plaintext)."""

    target: str
    options: tuple[tuple[str, Any], ...] = ()
    credentials: grpc.ChannelCredentials | None = None

    def channel(self) -> grpc.Channel:
        """A blocking channel to the endpoint."""
        if self.credentials is None:
            return grpc.insecure_channel(self.target, options=list(self.options))
        return grpc.secure_channel(self.target, self.credentials, options=list(self.options))

    def aio_channel(self) -> grpc.aio.Channel:
        """An asyncio channel to the endpoint."""
        if self.credentials is None:
            return grpc.aio.insecure_channel(self.target, options=list(self.options))
        return grpc.aio.secure_channel(self.target, self.credentials, options=list(self.options))
