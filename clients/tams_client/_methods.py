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
TransportT = TypeVar("TransportT", covariant=True)


class HasTransport(Protocol[TransportT]):
    """A client: what its calls run on."""

    @property
    def _transport(self) -> TransportT: ...


class unary(Generic[P, Result]):
    """A method answering one result: awaitable on AsyncTamsClient, blocking on
    TamsClient."""

    def __init__(self, build: Callable[P, Method[Result]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type) -> Self: ...
    @overload
    def __get__(
        self, client: HasTransport[AioTransport], owner: type
    ) -> Callable[P, Awaitable[Result]]: ...
    @overload
    def __get__(self, client: HasTransport[SyncTransport], owner: type) -> Callable[P, Result]: ...
    def __get__(self, client: HasTransport[Any] | None, owner: type) -> Any:
        if client is None:
            return self
        return _bound(self._build, client._transport.run)


class listing(Generic[P, Item, Page]):
    """A method answering a pager: AsyncPager on AsyncTamsClient, Pager on TamsClient."""

    def __init__(self, build: Callable[P, Listing[Page, Item]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type) -> Self: ...
    @overload
    def __get__(
        self, client: HasTransport[AioTransport], owner: type
    ) -> Callable[P, AsyncPager[Item, Page]]: ...
    @overload
    def __get__(
        self, client: HasTransport[SyncTransport], owner: type
    ) -> Callable[P, Pager[Item, Page]]: ...
    def __get__(self, client: HasTransport[Any] | None, owner: type) -> Any:
        if client is None:
            return self
        return _bound(self._build, client._transport.pager)


def _bound(build: Callable[P, Any], run: Callable[[Any], Any]) -> Callable[P, Any]:
    @functools.wraps(build)
    def method(*args: P.args, **kwargs: P.kwargs) -> Any:
        return run(build(*args, **kwargs))

    return method
