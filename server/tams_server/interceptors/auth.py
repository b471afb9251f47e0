"""Authentication: who is calling, before the handler runs.

The authenticator (``tams_server.auth``, built from the settings by
``config.auth.authenticator_of``) turns the ``authorization`` metadata into the
principal every write records as ``created_by``/``updated_by``/``deleted_by``, or
raises ``Unauthenticated``. Without one every call is anonymous. Health and reflection
are exempt: probes and ``grpcurl list`` need them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tams_server.domain.principal import Principal, current_principal
from tams_server.interceptors.stream_aware import Context, StreamAwareInterceptor

EXEMPT_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class Authenticator(Protocol):
    """Turns call metadata into a principal, or raises ``Unauthenticated``."""

    async def authenticate(self, metadata: Sequence[tuple[str, str | bytes]]) -> Principal | None:
        """The principal (None = anonymous)."""
        ...


class AuthInterceptor(StreamAwareInterceptor):
    """Innermost interceptor: authenticates and sets the principal."""

    def __init__(self, authenticator: Authenticator | None = None) -> None:
        self._authenticator = authenticator

    async def before(self, context: Context, method_name: str) -> None:
        if self._authenticator is not None and not method_name.startswith(EXEMPT_SERVICES):
            metadata = tuple(context.invocation_metadata() or ())
            current_principal.set(await self._authenticator.authenticate(metadata))
