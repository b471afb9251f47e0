"""TamsClient: the typed blocking client over tams.v1."""

from __future__ import annotations

from types import TracebackType

from tams_client import _auth
from tams_client._api import TamsApi
from tams_client._async_client import AsyncTamsClient
from tams_client._calls import Endpoint, Settings
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
        endpoint: Endpoint,
        settings: Settings,
        call_auth: _auth.Source | None,
    ) -> SyncTransport:
        auth = _auth.blocking(call_auth)

        def uploads_client() -> AsyncTamsClient:
            client = AsyncTamsClient(
                endpoint.target,
                timeout=settings.timeout,
                metadata=settings.metadata,
                channel_options=endpoint.options,
                retry=settings.retry,
                credentials=endpoint.credentials,
            )
            # The uploads' calls share this client's tokens: one cache, one refresh.
            client._transport.auth = None if auth is None else _auth.Threaded(auth)
            return client

        return SyncTransport(endpoint.channel(), settings, LoopThread(uploads_client), auth)

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
