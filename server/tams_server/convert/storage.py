"""Storage backend values -> messages."""

from __future__ import annotations

from tams.v1 import storage_pb2
from tams_server.convert.common import fill_tags
from tams_server.domain.storage import StorageBackend


def backend_to_proto(backend: StorageBackend) -> storage_pb2.StorageBackend:
    """A StorageBackend message (no secrets, no endpoint)."""
    message = storage_pb2.StorageBackend(
        id=backend.id,
        store_type=backend.store_type,
        provider=backend.provider,
        store_product=backend.store_product,
        label=backend.label,
        region=backend.region,
        availability_zone=backend.availability_zone,
        default_storage=backend.default_storage,
    )
    fill_tags(message.tags, backend.tags)
    return message
