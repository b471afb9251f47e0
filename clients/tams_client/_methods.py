"""A call description becomes a method of both clients: ``get_flow = unary(build)``
in the shared base gives ``AsyncTamsClient.get_flow`` (awaitable) and
``TamsClient.get_flow`` (blocking), with the builder's signature and docstring. The
builder is the one place a call is described; each client's transport runs it."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, Self, TypeVar, overload

from tams_client._calls import Listing, Method, Page, Result

if TYPE_CHECKING:
    from tams_client._aio_transport import AioTransport
    from tams_client._pagers import AsyncPager, Pager
    from tams_client._sync_transport import SyncTransport

P = ParamSpec("P")
Item = TypeVar("Item")
AsyncOut = TypeVar("AsyncOut")
SyncOut = TypeVar("SyncOut")
TransportT = TypeVar("TransportT", covariant=True)


class HasTransport(Protocol[TransportT]):
    """A client: what its calls run on."""

    @property
    def _transport(self) -> TransportT: ...


class ClientMethod(Generic[P, AsyncOut, SyncOut]):
    """A description bound to either client: on AsyncTamsClient it answers
    ``AsyncOut``, on TamsClient ``SyncOut``; ``runner`` picks the transport's way of
    running it."""

    def __init__(self, build: Callable[P, Any], runner: Callable[[Any], Callable[[Any], Any]]):
        self._build = build
        self._runner = runner
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type) -> Self: ...
    @overload
    def __get__(self, client: HasTransport[AioTransport], owner: type) -> Callable[P, AsyncOut]: ...
    @overload
    def __get__(self, client: HasTransport[SyncTransport], owner: type) -> Callable[P, SyncOut]: ...
    def __get__(self, client: HasTransport[Any] | None, owner: type) -> Any:
        if client is None:
            return self
        build, run = self._build, self._runner(client._transport)

        @functools.wraps(build)
        def method(*args: Any, **kwargs: Any) -> Any:
            return run(build(*args, **kwargs))

        return method


def unary(build: Callable[P, Method[Result]]) -> ClientMethod[P, Awaitable[Result], Result]:
    """A method answering one result: awaitable, or blocking."""
    return ClientMethod(build, lambda transport: transport.run)


def listing(
    build: Callable[P, Listing[Page, Item]],
) -> ClientMethod[P, AsyncPager[Item, Page], Pager[Item, Page]]:
    """A method answering a pager: AsyncPager, or Pager."""
    return ClientMethod(build, lambda transport: transport.pager)
