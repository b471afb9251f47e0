"""Where ``tams`` connects and as whom: flags first, then ``TAMS_TARGET`` (gRPC
``HOST:PORT``), ``TAMS_HTTP_URL`` (the REST base, to resolve relative object URLs)
and ``TAMS_TOKEN``."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from tams_client import AsyncTamsClient

DEFAULT_TARGET = "127.0.0.1:50051"


@dataclass(frozen=True)
class Connection:
    """The store to talk to and the credentials to use."""

    target: str
    http_url: str | None
    token: str | None

    @classmethod
    def resolve(cls, target: str | None, http_url: str | None, token: str | None) -> Connection:
        """Flags, else the environment, else the local default target."""
        return cls(
            target=target or os.environ.get("TAMS_TARGET") or DEFAULT_TARGET,
            http_url=http_url or os.environ.get("TAMS_HTTP_URL") or None,
            token=token or os.environ.get("TAMS_TOKEN") or None,
        )

    def client(self) -> AsyncTamsClient:
        """A client of the store (close it after use)."""
        return AsyncTamsClient(self.target, token=self.token)

    def http(self) -> httpx.AsyncClient:
        """An HTTP client for object transfers; relative URLs resolve against the REST
        base when there is one."""
        return httpx.AsyncClient(base_url=self.http_url or "", timeout=60.0)
