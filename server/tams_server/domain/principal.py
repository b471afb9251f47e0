"""Who is calling: set per RPC by the auth interceptor, read where the spec wants a
default for ``created_by``/``updated_by``/``deleted_by`` and where access is checked."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its subject (the token's ``sub``, a static token's or
    a Basic user's name), the scopes it was granted (``tams-api/read`` ...) and the
    groups it belongs to (for fine-grained access by ``auth_classes``; None when its
    credentials say nothing of groups, which means no such restriction)."""

    subject: str
    scopes: frozenset[str] = frozenset()
    groups: tuple[str, ...] | None = None


current_principal: ContextVar[Principal | None] = ContextVar("current_principal", default=None)


def principal() -> str | None:
    """The calling principal's name, or None when the call is anonymous (no
    authentication configured, or anonymous access allowed)."""
    caller = current_principal.get()
    return caller.subject if caller is not None else None
