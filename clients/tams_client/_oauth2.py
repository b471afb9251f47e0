"""The OAuth2 client-credentials grant (RFC 6749 4.4) over httpx: one POST to the
token endpoint, blocking or awaited, and the token read from its answer (5.1) or the
refusal turned into a TokenRequestError (5.2) that never carries the secret."""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote

import httpx

from tams_client._credentials import OAuth2ClientCredentials, Token
from tams_client._errors import TokenRequestError

_DESCRIPTION_CHARS = 200


def fetch(grant: OAuth2ClientCredentials) -> Token:
    """A new token from the endpoint (blocking)."""
    asked_at = time.time()
    try:
        with httpx.Client(timeout=grant.timeout_s) as http:
            response = http.post(grant.token_url, **_request(grant))
    except httpx.HTTPError as error:
        raise _unreachable(grant, error) from error
    return _token(grant, response, asked_at)


async def fetch_async(grant: OAuth2ClientCredentials) -> Token:
    """A new token from the endpoint (awaited)."""
    asked_at = time.time()
    try:
        async with httpx.AsyncClient(timeout=grant.timeout_s) as http:
            response = await http.post(grant.token_url, **_request(grant))
    except httpx.HTTPError as error:
        raise _unreachable(grant, error) from error
    return _token(grant, response, asked_at)


def _request(grant: OAuth2ClientCredentials) -> dict[str, Any]:
    """The POST's form and headers (RFC 6749 4.4.2, client authentication 2.3.1)."""
    form = {"grant_type": "client_credentials"}
    scopes = [grant.scopes] if isinstance(grant.scopes, str) else list(grant.scopes)
    if scopes:
        form["scope"] = " ".join(scopes)
    if grant.audience is not None:
        form["audience"] = grant.audience
    headers = {"Accept": "application/json"}
    if grant.auth_method == "client_secret_post":
        form |= {"client_id": grant.client_id, "client_secret": grant.client_secret}
    else:
        # 2.3.1: id and secret are form-urlencoded before they are joined and encoded.
        pair = f"{quote(grant.client_id, safe='')}:{quote(grant.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return {"data": form, "headers": headers}


def _token(grant: OAuth2ClientCredentials, response: httpx.Response, asked_at: float) -> Token:
    """The token of a successful answer; expiry counted from when it was asked for."""
    body = _json(response)
    if response.status_code != 200:
        error = str(body.get("error", ""))
        description = str(body.get("error_description", ""))[:_DESCRIPTION_CHARS]
        detail = ": ".join(part for part in (error, description) if part)
        raise TokenRequestError(
            f"the token endpoint {_where(grant)} answered HTTP {response.status_code}"
            + (f" ({detail})" if detail else ""),
            status_code=response.status_code,
            oauth_error=error,
        )
    value = body.get("access_token")
    token_type = str(body.get("token_type", "bearer"))
    if not isinstance(value, str) or not value or token_type.lower() != "bearer":
        raise TokenRequestError(
            f"the token endpoint {_where(grant)} answered without a bearer access_token",
            status_code=response.status_code,
        )
    expires_in = body.get("expires_in")
    try:
        expires_at = None if expires_in is None else asked_at + float(expires_in)
    except (TypeError, ValueError):
        expires_at = None  # unreadable: used until the server refuses it
    return Token(value, expires_at)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _unreachable(grant: OAuth2ClientCredentials, error: httpx.HTTPError) -> TokenRequestError:
    return TokenRequestError(
        f"the token endpoint {_where(grant)} could not be reached: {type(error).__name__}"
    )


def _where(grant: OAuth2ClientCredentials) -> str:
    """The endpoint without user info or query, which could hold credentials."""
    url = httpx.URL(grant.token_url)
    return str(url.copy_with(query=None, fragment=None, userinfo=b""))
