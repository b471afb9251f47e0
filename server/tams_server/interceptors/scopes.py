"""The scope check: an authenticated caller needs the scope its RPC declares.

Innermost, after AuthInterceptor has set the principal, and before the handler runs:
a caller without the scope is refused before any resource is looked up, so the
refusal (PERMISSION_DENIED, reason SCOPE_MISSING) says nothing of whether the resource
exists. Anonymous calls (no authentication configured) pass unchanged, as do health
and reflection, which probes and grpcurl use without credentials.
"""

from __future__ import annotations

from tams_server.auth.scopes import SCOPE_NAMES, grants, required_scope
from tams_server.domain.errors import PermissionDenied, Reason
from tams_server.domain.principal import current_principal
from tams_server.interceptors.auth import EXEMPT_SERVICES
from tams_server.interceptors.stream_aware import Context, StreamAwareInterceptor


class ScopeInterceptor(StreamAwareInterceptor):
    """Refuses a call whose principal lacks the RPC's required scope."""

    async def before(self, context: Context, method_name: str) -> None:
        caller = current_principal.get()
        if caller is None or method_name.startswith(EXEMPT_SERVICES):
            return
        try:
            required = required_scope(method_name)
        except LookupError:
            # No declaration (a test keeps every RPC declared): refuse, never guess.
            raise PermissionDenied(
                "this method declares no scope and is refused",
                reason=Reason.SCOPE_MISSING,
                metadata={"method": method_name},
            ) from None
        if not grants(caller.scopes, required):
            name = SCOPE_NAMES[required]
            raise PermissionDenied(
                f"this call requires the scope {name}",
                reason=Reason.SCOPE_MISSING,
                metadata={"requiredScope": name, "method": method_name},
            )
