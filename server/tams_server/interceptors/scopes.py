"""The scope check: an authenticated caller needs the scope its RPC declares.

Innermost, after AuthInterceptor has set the principal, and before the handler runs:
a caller without the scope is refused before any resource is looked up, so the
refusal (PERMISSION_DENIED, reason SCOPE_MISSING) says nothing of whether the resource
exists. Anonymous calls (no authentication configured) pass unchanged, as do health
and reflection, which probes and grpcurl use without credentials.
"""

from __future__ import annotations

from tams_server.auth.scopes import check_scope
from tams_server.domain.principal import current_principal
from tams_server.interceptors.auth import EXEMPT_SERVICES
from tams_server.interceptors.stream_aware import Context, StreamAwareInterceptor


class ScopeInterceptor(StreamAwareInterceptor):
    """Refuses a call whose principal lacks the RPC's required scope."""

    async def before(self, context: Context, method_name: str) -> None:
        caller = current_principal.get()
        if caller is None or method_name.startswith(EXEMPT_SERVICES):
            return
        check_scope(caller.scopes, method_name)
