"""Storage backends: where Objects' bytes live (TAMS `storage-backend.json`).

Backends come from configuration (``tams_server.config.storage``), not from the API.
What the domain knows of one is what the API shows of it: no endpoint, no secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tams_server.domain.tags import TagValue


@dataclass(frozen=True)
class StorageBackend:
    """One configured backend, as the API describes it."""

    id: str
    provider: str
    store_product: str
    label: str
    default_storage: bool
    region: str | None = None
    availability_zone: str | None = None
    tags: dict[str, TagValue] = field(default_factory=dict)
    store_type: str = "http_object_store"
