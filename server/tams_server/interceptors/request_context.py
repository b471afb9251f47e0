"""Per-RPC values shared by the interceptors."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID_KEY = "x-request-id"

request_id: ContextVar[str] = ContextVar("request_id", default="-")
