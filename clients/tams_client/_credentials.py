"""What a client may be given to authenticate its calls: a token (with its expiry),
or the settings of an OAuth2 client-credentials grant. Secrets stay out of reprs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Token:
    """A bearer token and when it expires, in Unix seconds like a JWT's ``exp``
    (None: until the server refuses it). A token callable returns one to say how long
    its token may be used; the client asks again shortly before ``expires_at``."""

    value: str = field(repr=False)
    expires_at: float | None = None


@dataclass(frozen=True)
class OAuth2ClientCredentials:
    """An OAuth2 client-credentials grant (RFC 6749 4.4): the client POSTs
    ``grant_type=client_credentials`` to ``token_url``, authenticating as
    ``client_id`` with HTTP Basic (``client_secret_basic``, the default) or in the
    form (``client_secret_post``), and keeps the token until shortly before its
    ``expires_in``. ``scopes`` are sent space separated; ``audience`` is the
    extension some providers (Auth0, ...) require."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: Sequence[str] = ()
    audience: str | None = None
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    timeout_s: float = 10.0
    """Seconds a token request may take."""


TokenValue = str | Token
TokenCallable = Callable[[], TokenValue | Awaitable[TokenValue]]
"""Returns a token when the client needs one: a plain string is used for a minute,
a ``Token`` until shortly before its ``expires_at``. AsyncTamsClient takes sync or
async callables (a sync one runs in a worker thread); TamsClient sync ones."""

TokenArg = str | TokenCallable | OAuth2ClientCredentials
"""``token=`` of both clients: a static token, a token callable, or a grant."""
