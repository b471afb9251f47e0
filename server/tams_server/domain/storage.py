"""Storage backends: where Objects' bytes live (TAMS `storage-backend.json`).

Backends come from configuration, not from the API. Their ids are UUID version 5 of
their description, so every replica of a deployment derives the same ids.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tams_server.domain.errors import InvalidArgument
from tams_server.domain.tags import TagValue

_ID_NAMESPACE = uuid.UUID("6f1d0a52-8c35-4d8e-9c6f-52a1d9f0b4e1")
LOCAL = "local:"


@dataclass(frozen=True)
class StorageBackend:
    """One configured backend. Secrets never leave the server."""

    id: str
    kind: str
    """``local`` (files under the data folder, served by this server) or ``s3``."""
    provider: str
    store_product: str
    label: str
    default_storage: bool
    region: str | None = None
    availability_zone: str | None = None
    tags: dict[str, TagValue] = field(default_factory=dict)
    bucket: str | None = None
    endpoint_url: str | None = None
    store_type: str = "http_object_store"
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)


def parse_backends(specs: tuple[str, ...]) -> tuple[StorageBackend, ...]:
    """Backends from their descriptions: ``local:`` or
    ``s3://BUCKET?endpoint=URL&region=R&label=L&default=true&tag.NAME=VALUE`` (credentials from
    ``access_key``/``secret_key`` there, or the AWS_* environment variables). The first is the
    default unless another says ``default=true``; none configured means ``local:``."""
    specs = specs or (LOCAL,)
    backends = [_parse(spec) for spec in specs]
    defaults = [b for b in backends if b.default_storage]
    if len(defaults) > 1:
        raise InvalidArgument.for_field("storage", "more than one backend says default=true")
    if not defaults:
        first = backends[0]
        backends[0] = StorageBackend(**{**first.__dict__, "default_storage": True})
    ids = [b.id for b in backends]
    if len(set(ids)) != len(ids):
        raise InvalidArgument.for_field("storage", "the same backend is configured twice")
    return tuple(backends)


def _parse(spec: str) -> StorageBackend:
    backend_id = str(uuid.uuid5(_ID_NAMESPACE, spec.split("?")[0]))
    if spec.startswith(LOCAL):
        options = parse_qs(spec[len(LOCAL) :].lstrip("?"))
        return StorageBackend(
            id=backend_id,
            kind="local",
            provider="tams-grpc",
            store_product="local-files",
            label=_one(options, "label") or "local",
            default_storage=_one(options, "default") == "true",
            tags=_tags(options),
        )
    parts = urlsplit(spec)
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidArgument.for_field(
            "storage", f"{spec!r} is neither 'local:' nor 's3://BUCKET?endpoint=...'"
        )
    options = parse_qs(parts.query)
    region = _one(options, "region") or "us-east-1"
    return StorageBackend(
        id=backend_id,
        kind="s3",
        provider=_one(options, "provider") or "aws",
        store_product="s3",
        label=_one(options, "label") or parts.netloc,
        default_storage=_one(options, "default") == "true",
        region=region,
        availability_zone=_one(options, "availability_zone"),
        tags=_tags(options),
        bucket=parts.netloc,
        endpoint_url=_one(options, "endpoint") or f"https://s3.{region}.amazonaws.com",
        access_key=_one(options, "access_key") or os.environ.get("AWS_ACCESS_KEY_ID"),
        secret_key=_one(options, "secret_key") or os.environ.get("AWS_SECRET_ACCESS_KEY"),
        session_token=os.environ.get("AWS_SESSION_TOKEN"),
    )


def _tags(options: dict[str, list[str]]) -> dict[str, TagValue]:
    """The backend's tags: options ``tag.NAME=VALUE``."""
    return {name[4:]: values[-1] for name, values in options.items() if name.startswith("tag.")}


def _one(options: dict[str, list[str]], name: str) -> str | None:
    values = options.get(name)
    return values[-1] if values else None
