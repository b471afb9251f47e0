"""POSTs to webhook receivers, safely: only to addresses the service may call (checked
on the resolved addresses at send time, not only on the registered URL's text), no
redirects followed, a timeout on every request, a bounded pool of connections."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from tams_server.domain.webhook_urls import forbidden_address
from tams_server.store.clock import now_ns

USER_AGENT = "tams-grpc-webhooks/1"


@dataclass(frozen=True)
class Failure:
    """Why a delivery failed, as the webhook's ``error`` reports it."""

    type: str
    summary: str

    def stored(self) -> dict[str, object]:
        """The stored shape of a task error."""
        return {"type": self.type, "summary": self.summary, "time_ns": now_ns()}


class Receivers:
    """One HTTP client for every delivery of a replica."""

    def __init__(self, *, allow_private: bool, timeout_s: float, max_connections: int = 64) -> None:
        self._allow_private = allow_private
        self._client = httpx.AsyncClient(
            timeout=timeout_s,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections),
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        )

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Failure | None:
        """Deliver ``body``; None when the receiver answered 2xx."""
        forbidden = await self._forbidden(url)
        if forbidden is not None:
            return forbidden
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Failure("WEBHOOK_RECEIVER_TIMEOUT", f"no answer from {url} in time")
        except httpx.HTTPError as error:
            return Failure("WEBHOOK_RECEIVER_UNREACHABLE", f"{url}: {type(error).__name__}")
        if response.is_success:
            return None
        if response.is_redirect:
            return Failure(
                "WEBHOOK_RECEIVER_REDIRECT",
                f"{url} answered {response.status_code}; redirects are not followed",
            )
        return Failure("WEBHOOK_RECEIVER_STATUS", f"{url} answered {response.status_code}")

    async def _forbidden(self, url: str) -> Failure | None:
        """A failure when the URL's host resolves to an address webhooks may not
        reach (a name may point anywhere, and change: DNS rebinding)."""
        if self._allow_private:
            return None
        target = httpx.URL(url)
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.host, port, type=socket.SOCK_STREAM
            )
        except OSError as error:
            return Failure("WEBHOOK_RECEIVER_UNREACHABLE", f"{target.host}: {error}")
        for *_, address in infos:
            if forbidden_address(ipaddress.ip_address(address[0])):
                return Failure(
                    "WEBHOOK_RECEIVER_FORBIDDEN",
                    f"{target.host} resolves to {address[0]}, which webhooks may not reach",
                )
        return None

    async def aclose(self) -> None:
        """Close every connection."""
        await self._client.aclose()
