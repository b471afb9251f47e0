"""AsyncTamsClient: the typed asyncio client over tams.v1."""

from __future__ import annotations

from types import TracebackType

from tams_client import _auth
from tams_client._aio_transport import AioTransport
from tams_client._api import TamsApi
from tams_client._calls import Endpoint, Settings


class AsyncTamsClient(TamsApi[AioTransport]):
    """Talks to a TAMS gRPC server; ``async with AsyncTamsClient("host:50051") as c``.

    Methods return tams.v1 messages and raise ``TamsClientError`` subclasses.
    Idempotent calls (reads, puts, deletes) are retried on UNAVAILABLE /
    DEADLINE_EXCEEDED as ``retry`` says, within its deadline; creates are not.
    ``timeout`` bounds each attempt; every method takes its own ``timeout=`` and
    ``retry=`` too. ``token=`` (a token, a sync or async token callable, or
    ``OAuth2ClientCredentials``) or ``basic=`` authenticate every call.
    """

    def _connect(
        self,
        endpoint: Endpoint,
        settings: Settings,
        call_auth: _auth.Source | None,
    ) -> AioTransport:
        return AioTransport(endpoint.aio_channel(), settings, self, _auth.asynchronous(call_auth))

    async def __aenter__(self) -> AsyncTamsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel."""
        await self._transport.close()
