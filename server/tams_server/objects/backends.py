"""The one place that picks the implementation of each configured backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack

from tams_server.domain.storage import StorageBackend
from tams_server.objects.backend import Backend
from tams_server.objects.local_backend import LocalBackend
from tams_server.objects.s3 import S3Bucket, open_s3_backend


async def open_backends(
    stack: AsyncExitStack,
    backends: Sequence[StorageBackend],
    buckets: Mapping[str, S3Bucket],
    local: LocalBackend,
) -> dict[str, Backend]:
    """The implementation of each backend, by id: S3 for those with a bucket (their
    clients open until ``stack`` closes), the local files for the others."""
    opened: dict[str, Backend] = {}
    for backend in backends:
        bucket = buckets.get(backend.id)
        opened[backend.id] = local if bucket is None else await open_s3_backend(stack, bucket)
    return opened
