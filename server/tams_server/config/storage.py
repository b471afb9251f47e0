"""The ``--storage`` descriptions of storage backends, read into what the API shows of
each (a domain ``StorageBackend``) and, for S3 ones, where the bucket is and the
credentials that reach it (taken from the description or the ``AWS_*`` environment).

Backend ids are UUID version 5 of their description, so every replica of a
deployment derives the same ids.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tams_server.domain.errors import InvalidArgument
from tams_server.domain.storage import StorageBackend
from tams_server.domain.tags import TagValue
from tams_server.objects.s3 import S3Bucket
from tams_server.objects.s3_presign import Credentials

_ID_NAMESPACE = uuid.UUID("6f1d0a52-8c35-4d8e-9c6f-52a1d9f0b4e1")
LOCAL = "local:"


@dataclass(frozen=True)
class Storage:
    """The configured backends, and the buckets of the S3 ones (by backend id; the
    others keep files under the data folder)."""

    backends: tuple[StorageBackend, ...]
    buckets: Mapping[str, S3Bucket]


def parse_storage(specs: tuple[str, ...]) -> Storage:
    """Backends from their descriptions: ``local:`` or
    ``s3://BUCKET?endpoint=URL&region=R&label=L&default=true&tag.NAME=VALUE`` (credentials from
    ``access_key``/``secret_key`` there, or the AWS_* environment variables). The first is the
    default unless another says ``default=true``; none configured means ``local:``."""
    parsed = [_parse(spec) for spec in specs or (LOCAL,)]
    backends = [backend for backend, _ in parsed]
    defaults = [b for b in backends if b.default_storage]
    if len(defaults) > 1:
        raise InvalidArgument.for_field("storage", "more than one backend says default=true")
    if not defaults:
        backends[0] = dataclasses.replace(backends[0], default_storage=True)
    ids = [b.id for b in backends]
    if len(set(ids)) != len(ids):
        raise InvalidArgument.for_field("storage", "the same backend is configured twice")
    buckets = {backend.id: bucket for backend, bucket in parsed if bucket is not None}
    return Storage(tuple(backends), buckets)


def _parse(spec: str) -> tuple[StorageBackend, S3Bucket | None]:
    backend_id = str(uuid.uuid5(_ID_NAMESPACE, spec.split("?")[0]))
    if spec.startswith(LOCAL):
        options = parse_qs(spec[len(LOCAL) :].lstrip("?"))
        local = StorageBackend(
            id=backend_id,
            provider="tams-grpc",
            store_product="local-files",
            label=_one(options, "label") or "local",
            default_storage=_one(options, "default") == "true",
            tags=_tags(options),
        )
        return local, None
    parts = urlsplit(spec)
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidArgument.for_field(
            "storage", f"{spec!r} is neither 'local:' nor 's3://BUCKET?endpoint=...'"
        )
    options = parse_qs(parts.query)
    region = _one(options, "region") or "us-east-1"
    s3 = StorageBackend(
        id=backend_id,
        provider=_one(options, "provider") or "aws",
        store_product="s3",
        label=_one(options, "label") or parts.netloc,
        default_storage=_one(options, "default") == "true",
        region=region,
        availability_zone=_one(options, "availability_zone"),
        tags=_tags(options),
    )
    bucket = S3Bucket(
        name=parts.netloc,
        endpoint_url=_one(options, "endpoint") or f"https://s3.{region}.amazonaws.com",
        region=region,
        credentials=Credentials(
            _one(options, "access_key") or os.environ.get("AWS_ACCESS_KEY_ID", ""),
            _one(options, "secret_key") or os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
            os.environ.get("AWS_SESSION_TOKEN"),
        ),
    )
    return s3, bucket


def _tags(options: dict[str, list[str]]) -> dict[str, TagValue]:
    """The backend's tags: options ``tag.NAME=VALUE``."""
    return {name[4:]: values[-1] for name, values in options.items() if name.startswith("tag.")}


def _one(options: dict[str, list[str]], name: str) -> str | None:
    values = options.get(name)
    return values[-1] if values else None
