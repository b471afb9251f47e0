"""TamsClient: the typed blocking client over tams.v1."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import grpc

from tams_client import _auth
from tams_client._api import TamsApi
from tams_client._async_client import AsyncTamsClient
from tams_client._calls import Settings
from tams_client._loop_thread import LoopThread
from tams_client._sync_transport import SyncTransport


class TamsClient(TamsApi[SyncTransport]):
    """Talks to a TAMS gRPC server; ``with TamsClient("host:50051") as c``. The calls
    of AsyncTamsClient, blocking, over a blocking channel; safe to share between
    threads. ``token=`` takes a token, a sync token callable or
    ``OAuth2ClientCredentials``; ``basic=`` Basic credentials.
    """

    def _connect(
        self,
        target: str,
        channel_options: tuple[tuple[str, Any], ...],
        settings: Settings,
        call_auth: _auth.Source | None,
    ) -> SyncTransport:
        channel = grpc.insecure_channel(target, options=list(channel_options))
        auth = _auth.blocking(call_auth)

        def uploads_client() -> AsyncTamsClient:
            client = AsyncTamsClient(
                target,
                timeout=settings.timeout,
                metadata=settings.metadata,
                channel_options=channel_options,
                retry=settings.retry,
            )
            # The uploads' calls share this client's tokens: one cache, one refresh.
            client._transport.auth = None if auth is None else _auth.Threaded(auth)
            return client

        return SyncTransport(channel, settings, LoopThread(uploads_client), auth)

    def __enter__(self) -> TamsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel (and the uploads' event loop, if one started)."""
        self._transport.close()
