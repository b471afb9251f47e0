"""Where the ``authorization`` metadata of every call comes from: a fixed value (a
static token, Basic credentials), or a token source the client asks again shortly
before the token expires and once more when the server refuses it.

The clients attach the header to each call themselves instead of using gRPC call
credentials: grpc refuses those on plaintext channels, runs their plugins on its
own threads (no async token callables), and gives no way to refresh and retry
after UNAUTHENTICATED."""

from __future__ import annotations

import asyncio
import base64
import inspect
import math
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, Protocol

import grpc

from tams_client import _oauth2
from tams_client._credentials import OAuth2ClientCredentials, Token, TokenArg, TokenCallable

HEADER = "authorization"
REFRESH_MARGIN_S = 30.0
"""A token with an expiry is replaced this long before it (at most half its life)."""
PLAIN_TOKEN_TTL_S = 60.0
"""How long a plain string from a token callable is used before asking again."""
_MAX_TOKEN_CHARS = 16_384


class Fixed:
    """A header that never changes; refusing it cannot be helped by asking again."""

    def __init__(self, header: str) -> None:
        self._header = header

    def fresh(self) -> str:
        return self._header

    def header(self) -> str:
        return self._header

    def refused(self, sent: str) -> bool:
        return False


Source = Fixed | TokenCallable | OAuth2ClientCredentials
"""A client's credentials, checked; each client makes its own auth of them."""


class BlockingAuth(Protocol):
    """The header of TamsClient's calls (thread-safe)."""

    def fresh(self) -> str | None:
        """The header if one is ready, without waiting."""

    def header(self) -> str:
        """The header of the next call; fetches a token if none is fresh."""

    def refused(self, sent: str) -> bool:
        """The server refused ``sent``: forget it. Whether a new one may be had."""


class AsyncAuth(Protocol):
    """The header of AsyncTamsClient's calls."""

    async def header(self) -> str: ...

    async def refused(self, sent: str) -> bool: ...


def source(
    token: TokenArg | None, basic: tuple[str, str] | None, metadata: Sequence[tuple[str, str]]
) -> Source | None:
    """The checked credentials of a client given ``token=``, ``basic=`` and
    ``metadata=``; errors never quote a secret."""
    if token is not None and basic is not None:
        raise ValueError("give token= or basic=, not both")
    if (token is not None or basic is not None) and any(k.lower() == HEADER for k, _ in metadata):
        raise ValueError("metadata= already has an authorization entry: drop it or token=")
    if basic is not None:
        user, password = basic
        if ":" in user:
            raise ValueError("a Basic user name cannot contain ':'")
        return Fixed("Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    if isinstance(token, str):
        return Fixed(_bearer(token))
    return token


def blocking(credentials: Source | None) -> BlockingAuth | None:
    """TamsClient's auth of ``credentials``."""
    if credentials is None or isinstance(credentials, Fixed):
        return credentials
    if isinstance(credentials, OAuth2ClientCredentials):
        return Refreshing(partial(_oauth2.fetch, credentials))
    return Refreshing(partial(_called, credentials))


def asynchronous(credentials: Source | None) -> AsyncAuth | None:
    """AsyncTamsClient's auth of ``credentials``."""
    if credentials is None:
        return None
    if isinstance(credentials, Fixed):
        return Threaded(credentials)  # always fresh: never leaves the loop
    if isinstance(credentials, OAuth2ClientCredentials):
        return AsyncRefreshing(partial(_oauth2.fetch_async, credentials))
    return AsyncRefreshing(partial(_awaited, credentials))


def unauthenticated(error: grpc.RpcError) -> bool:
    code: Any = error
    return bool(code.code() == grpc.StatusCode.UNAUTHENTICATED)


def metadata(base: tuple[tuple[str, str], ...], header: str | None) -> tuple[tuple[str, str], ...]:
    """A call's metadata: the client's, and the header if there is one."""
    return base if header is None else (*base, (HEADER, header))


class TokenSlot:
    """The header in use and when to replace it (wall clock, as token expiries are);
    no I/O and no lock: its owner serialises fills."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._header: str | None = None
        self._renew_at = -math.inf

    def fresh(self) -> str | None:
        header = self._header  # one read: another thread may fill meanwhile
        return header if header is not None and self._clock() < self._renew_at else None

    def fill(self, got: str | Token) -> str:
        """Keep ``got`` (what a source answered) and return its header."""
        now = self._clock()
        if isinstance(got, str):
            renew_at = now + PLAIN_TOKEN_TTL_S
            value = got
        elif isinstance(got, Token):
            value = got.value
            if got.expires_at is None:
                renew_at = math.inf
            else:
                life = max(got.expires_at - now, 0.0)
                renew_at = got.expires_at - min(REFRESH_MARGIN_S, life / 2)
        else:
            raise TypeError(f"a token callable must return str or Token, not {type(got).__name__}")
        header = _bearer(value)
        self._header, self._renew_at = header, renew_at
        return header

    def refused(self, sent: str) -> None:
        if self._header == sent:  # not already replaced by another call
            self._header = None


class Refreshing:
    """Tokens from a blocking ``fetch``, kept in a slot; one fetch at a time."""

    def __init__(self, fetch: Callable[[], str | Token]) -> None:
        self._fetch = fetch
        self._slot = TokenSlot()
        self._lock = threading.Lock()

    def fresh(self) -> str | None:
        return self._slot.fresh()

    def header(self) -> str:
        with self._lock:
            return self._slot.fresh() or self._slot.fill(self._fetch())

    def refused(self, sent: str) -> bool:
        with self._lock:
            self._slot.refused(sent)
        return True


class AsyncRefreshing:
    """Tokens from an awaited ``fetch``, kept in a slot; one fetch at a time."""

    def __init__(self, fetch: Callable[[], Awaitable[str | Token]]) -> None:
        self._fetch = fetch
        self._slot = TokenSlot()
        self._lock = asyncio.Lock()

    async def header(self) -> str:
        fresh = self._slot.fresh()
        if fresh is not None:
            return fresh
        async with self._lock:
            return self._slot.fresh() or self._slot.fill(await self._fetch())

    async def refused(self, sent: str) -> bool:
        self._slot.refused(sent)
        return True


class Threaded:
    """A BlockingAuth seen from an event loop: a fresh header is used at once, a fetch
    runs in a worker thread. TamsClient's uploads share its tokens this way."""

    def __init__(self, auth: BlockingAuth) -> None:
        self._auth = auth

    async def header(self) -> str:
        fresh = self._auth.fresh()
        return fresh if fresh is not None else await asyncio.to_thread(self._auth.header)

    async def refused(self, sent: str) -> bool:
        return await asyncio.to_thread(self._auth.refused, sent)


def _called(call: TokenCallable) -> str | Token:
    got = call()
    if inspect.isawaitable(got):
        if inspect.iscoroutine(got):
            got.close()
        raise TypeError("TamsClient takes a sync token callable; AsyncTamsClient takes both")
    return got


async def _awaited(call: TokenCallable) -> str | Token:
    """``call``'s token; a sync callable runs in a worker thread, so one that blocks
    does not stall the loop."""
    got = call() if inspect.iscoroutinefunction(call) else await asyncio.to_thread(call)
    return await got if inspect.isawaitable(got) else got


def _bearer(token: str) -> str:
    if not (0 < len(token) <= _MAX_TOKEN_CHARS and token.isascii() and token.isprintable()):
        raise ValueError("a token must be 1 to 16384 printable ASCII characters")
    if " " in token:
        raise ValueError("a token cannot contain spaces")
    return f"Bearer {token}"
