"""AWS Signature Version 4 presigned URLs for S3, computed locally and fast.

A listing of thousands of Segments needs thousands of download URLs; botocore's
``generate_presigned_url`` rebuilds a request object and a signer for each. Here the
credentials and the day's signing key are cached, and a URL costs one SHA-256 and two
HMACs. The output is byte-for-byte what botocore produces for the same instant (a test
compares them) and is what S3-compatible stores verify.

Path-style addressing (``{endpoint}/{bucket}/{key}``), ``UNSIGNED-PAYLOAD``, and only
the ``host`` header signed (extra headers, such as Content-MD5, may be required by
``signed_headers``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"


@dataclass(frozen=True)
class Credentials:
    """An access key pair, and a session token for temporary credentials."""

    access_key: str
    secret_key: str
    session_token: str | None = None


class S3Presigner:
    """Presigned GET/PUT URLs for one endpoint, region and set of credentials."""

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials) -> None:
        parts = urlsplit(endpoint_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._host = parts.netloc
        self._region = region
        self._credentials = credentials
        self._keys: dict[str, bytes] = {}

    def url(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        expires_s: int,
        now: datetime | None = None,
        signed_headers: Mapping[str, str] | None = None,
    ) -> str:
        """A URL that lets its holder ``method`` (GET, PUT) ``bucket/key`` for
        ``expires_s`` seconds from ``now``. ``signed_headers`` (lower-case names) must
        then be sent with exactly these values."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        scope = f"{day}/{self._region}/s3/aws4_request"
        headers = {"host": self._host, **{k.lower(): v for k, v in (signed_headers or {}).items()}}
        names = ";".join(sorted(headers))
        query = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{self._credentials.access_key}/{scope}",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(expires_s),
            "X-Amz-SignedHeaders": names,
        }
        if self._credentials.session_token:
            query["X-Amz-Security-Token"] = self._credentials.session_token
        canonical_query = "&".join(
            f"{_encode(name)}={_encode(value)}" for name, value in sorted(query.items())
        )
        path = "/" + _encode(bucket) + "/" + quote(key, safe="/" + _UNRESERVED)
        canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in sorted(headers))
        canonical_request = (
            f"{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{names}\nUNSIGNED-PAYLOAD"
        )
        to_sign = (
            f"{ALGORITHM}\n{amz_date}\n{scope}\n"
            + hashlib.sha256(canonical_request.encode()).hexdigest()
        )
        signature = hmac.new(self._signing_key(day), to_sign.encode(), hashlib.sha256).hexdigest()
        # The URL lists the parameters in botocore's order (the signature covers them
        # sorted), so URLs are byte-for-byte comparable with botocore's.
        listed = "&".join(f"{_encode(name)}={_encode(value)}" for name, value in query.items())
        return f"{self._origin}{path}?{listed}&X-Amz-Signature={signature}"

    def _signing_key(self, day: str) -> bytes:
        """The day's derived key, computed once per day."""
        key = self._keys.get(day)
        if key is None:
            key = ("AWS4" + self._credentials.secret_key).encode()
            for part in (day, self._region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys = {day: key}  # yesterday's key is no longer needed
        return key


def _encode(value: str) -> str:
    return quote(value, safe=_UNRESERVED)
