"""Typed clients of the TAMS gRPC API.

``AsyncTamsClient`` (asyncio) and ``TamsClient`` (blocking) return tams.v1 messages,
page listings automatically, retry idempotent calls, and raise one exception class per
status code with the server's reason and field violations. ``token=`` (a token, a
token callable or ``OAuth2ClientCredentials``) authenticates every call.
"""

from tams_client._async_client import AsyncTamsClient
from tams_client._credentials import OAuth2ClientCredentials, Token, TokenCallable
from tams_client._errors import (
    AbortedError,
    AlreadyExistsError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    TamsClientError,
    TokenRequestError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
)
from tams_client._pagers import AsyncPager, AsyncStreamPager, Pager
from tams_client._plaintext import PlaintextCredentialsWarning
from tams_client._retry import RetryPolicy
from tams_client._sync_client import TamsClient
from tams_client._tags import tag_filter, tag_value, tags_to_python
from tams_client._uploads import (
    HttpUploadError,
    MediaSegment,
    Progress,
    UploadFailure,
    UploadResult,
)

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "AsyncPager",
    "AsyncStreamPager",
    "AsyncTamsClient",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "HttpUploadError",
    "InternalError",
    "InvalidArgumentError",
    "MediaSegment",
    "NotFoundError",
    "OAuth2ClientCredentials",
    "Pager",
    "PermissionDeniedError",
    "PlaintextCredentialsWarning",
    "Progress",
    "RetryPolicy",
    "TamsClient",
    "TamsClientError",
    "Token",
    "TokenCallable",
    "TokenRequestError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UploadFailure",
    "UploadResult",
    "tag_filter",
    "tag_value",
    "tags_to_python",
]
