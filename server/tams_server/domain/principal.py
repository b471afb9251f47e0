"""Who is calling: set per RPC by the auth interceptor, read where the spec wants a
default for ``created_by``/``updated_by``/``deleted_by``."""

from __future__ import annotations

from contextvars import ContextVar

current_principal: ContextVar[str | None] = ContextVar("current_principal", default=None)


def principal() -> str | None:
    """The calling principal's name, or None when the deployment has no auth."""
    return current_principal.get()
