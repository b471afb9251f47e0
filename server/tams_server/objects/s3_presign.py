"""AWS Signature Version 4 presigned URLs for S3, computed locally and fast.

A listing of thousands of Segments needs thousands of download URLs; botocore's
``generate_presigned_url`` rebuilds a request object and a signer for each. Here the
credentials and the day's signing key are cached, and a URL costs one SHA-256 and two
HMACs; everything but the path is built once per second and shared by the URLs signed
in it. The output is byte-for-byte what botocore produces for the same instant (a test
compares them) and is what S3-compatible stores verify.

Path-style addressing (``{endpoint}/{bucket}/{key}``), ``UNSIGNED-PAYLOAD``, and only
the ``host`` header signed (extra headers, such as Content-MD5, may be required by
``signed_headers``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"


@dataclass(frozen=True)
class Credentials:
    """An access key pair, and a session token for temporary credentials (the secret
    parts kept out of ``repr``, so out of logs)."""

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class _Form:
    """Everything of a URL but its path, for one method, second, lifetime and set of
    signed headers and extra parameters: built once, shared by every URL signed in
    that second."""

    canonical_query: str
    canonical_headers: str
    names: str
    listed: str
    string_to_sign_head: str
    inner: Any  # HMAC-SHA256 with the day's key, as two SHA-256 states with the key
    outer: Any  # pads absorbed: a URL costs two copies and updates, not an HMAC setup


class S3Presigner:
    """Presigned URLs for one endpoint, region and set of credentials."""

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials) -> None:
        parts = urlsplit(endpoint_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._host = parts.netloc
        self._region = region
        self._credentials = credentials
        self._keys: dict[str, bytes] = {}
        self._forms: dict[tuple[Any, ...], _Form] = {}
        self._forms_second = -1

    def url(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        expires_s: int,
        now: datetime | float | None = None,
        signed_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
    ) -> str:
        """A URL that lets its holder ``method`` ``bucket/key`` for ``expires_s``
        seconds from ``now`` (a datetime or epoch seconds). ``signed_headers``
        (lower-case names) must then be sent with exactly these values;
        ``extra_query`` are the operation's own parameters (``uploadId``,
        ``partNumber``), listed first, in the order given (botocore's)."""
        if now is None:
            second = int(time.time())
        else:
            second = int(now.timestamp() if isinstance(now, datetime) else now)
        if second != self._forms_second:
            self._forms = {}
            self._forms_second = second
        shape: tuple[Any, ...] = (method, expires_s)
        if signed_headers or extra_query:
            shape = (
                method,
                expires_s,
                tuple(sorted(signed_headers.items())) if signed_headers else (),
                tuple(extra_query.items()) if extra_query else (),
            )
        form = self._forms.get(shape)
        if form is None:
            form = self._forms[shape] = self._form(second, *shape)
        path = f"/{_encode(bucket)}/{_path(key)}"
        canonical_request = (
            f"{method}\n{path}\n{form.canonical_query}\n{form.canonical_headers}\n"
            f"{form.names}\nUNSIGNED-PAYLOAD"
        )
        to_sign = form.string_to_sign_head + hashlib.sha256(canonical_request.encode()).hexdigest()
        inner = form.inner.copy()
        inner.update(to_sign.encode())
        outer = form.outer.copy()
        outer.update(inner.digest())
        return f"{self._origin}{path}?{form.listed}&X-Amz-Signature={outer.hexdigest()}"

    def _form(
        self,
        second: int,
        method: str,
        expires_s: int,
        signed_headers: tuple[tuple[str, str], ...] = (),
        extra_query: tuple[tuple[str, str], ...] = (),
    ) -> _Form:
        amz_date = datetime.fromtimestamp(second, UTC).strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        scope = f"{day}/{self._region}/s3/aws4_request"
        headers = {"host": self._host, **{k.lower(): v for k, v in signed_headers}}
        names = ";".join(sorted(headers))
        auth = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{self._credentials.access_key}/{scope}",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(expires_s),
            "X-Amz-SignedHeaders": names,
        }
        if self._credentials.session_token:
            auth["X-Amz-Security-Token"] = self._credentials.session_token
        every = [*extra_query, *auth.items()]
        return _Form(
            canonical_query="&".join(
                f"{_encode(name)}={_encode(value)}" for name, value in sorted(every)
            ),
            canonical_headers="".join(
                f"{name}:{headers[name].strip()}\n" for name in sorted(headers)
            ),
            names=names,
            # The URL lists the parameters in botocore's order (the signature covers
            # them sorted), so URLs are byte-for-byte comparable with botocore's.
            listed="&".join(f"{_encode(name)}={_encode(value)}" for name, value in every),
            string_to_sign_head=f"{ALGORITHM}\n{amz_date}\n{scope}\n",
            **_hmac_states(self._signing_key(day)),
        )

    def _signing_key(self, day: str) -> bytes:
        """The day's derived key, computed once per day."""
        key = self._keys.get(day)
        if key is None:
            key = ("AWS4" + self._credentials.secret_key).encode()
            for part in (day, self._region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys = {day: key}  # yesterday's key is no longer needed
        return key


def _hmac_states(key: bytes) -> dict[str, Any]:
    """HMAC-SHA256 (RFC 2104) for a key of at most one block: SHA-256 states that have
    absorbed the key XOR the inner and outer pads."""
    block = key.ljust(64, b"\0")
    return {
        "inner": hashlib.sha256(bytes(b ^ 0x36 for b in block)),
        "outer": hashlib.sha256(bytes(b ^ 0x5C for b in block)),
    }


_PLAIN_KEY = re.compile(r"[A-Za-z0-9/_.~-]*")


def _path(key: str) -> str:
    """The key as a URL path: most keys (ids, dates, slashes) need no escaping."""
    if _PLAIN_KEY.fullmatch(key):
        return key
    return quote(key, safe="/" + _UNRESERVED)


def _encode(value: str) -> str:
    return quote(value, safe=_UNRESERVED)
