"""Tables of the metadata store, one schema for SQLite and PostgreSQL.

Times are BIGINT nanoseconds since the Unix epoch. Tags live twice: as JSON on the
resource (what is returned) and as one row per (name, value) in a side table (what
filters use, so ``tag.{name}`` and ``tag_exists.{name}`` are index lookups).
Alembic migrations in ``migrations/`` create and evolve these tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(36)


def _described_columns() -> list[Column[Any]]:
    """What a client says of a Source or Flow besides its content: names, authors and
    tags (fresh objects: a Column belongs to one table)."""
    return [
        Column("label", Text),
        Column("description", Text),
        Column("created_by", Text),
        Column("updated_by", Text),
        Column("tags", JSON, nullable=False),
    ]


settings = Table(
    "service_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", ID, primary_key=True),
    Column("format", String(64), nullable=False),
    *_described_columns(),
    Column("created_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
    Column("deleted_ns", BigInteger),
    Column("deleted_by", Text),
    Index(None, "created_ns", "id"),
    Index(None, "updated_ns", "id"),
    Index(None, "label", "id"),
)


def _tag_table(name: str, owner_id: str, owner: str) -> Table:
    """The side table of a resource's tags: one row per (name, value), what tag filters
    look up; the rows go with their resource (``owner``'s ``id``). A filter probes
    ``(owner_id, name, value)`` for each listed resource; ``(name, value)`` finds the
    resources holding a tag (the access filter's auth classes)."""
    return Table(
        name,
        metadata,
        Column(owner_id, ID, ForeignKey(f"{owner}.id", ondelete="CASCADE"), nullable=False),
        Column("name", Text, nullable=False),
        Column("value", Text),
        Index(None, owner_id, "name", "value"),
        Index(None, "name", "value"),
    )


source_tags = _tag_table("source_tags", "source_id", "sources")

flows = Table(
    "flows",
    metadata,
    Column("id", ID, primary_key=True),
    Column("source_id", ID, ForeignKey("sources.id"), nullable=False),
    Column("format", String(64), nullable=False),
    Column("codec", Text),
    Column("container", Text),
    *_described_columns(),
    Column("metadata_version", Text, nullable=False),
    Column("generation", Integer),
    Column("status", String(32)),
    Column("read_only", Boolean),
    Column("max_bit_rate", Integer),
    Column("avg_bit_rate", Integer),
    Column("profile_id", ID),
    Column("segment_duration", JSON),
    Column("container_mapping", JSON),
    Column("essence_parameters", JSON),
    # Copies of essence values, for filters:
    Column("frame_width", Integer),
    Column("frame_height", Integer),
    Column("init_segments", Boolean),
    Column("created_ns", BigInteger, nullable=False),
    Column("metadata_updated_ns", BigInteger, nullable=False),
    Column("segments_updated_ns", BigInteger),
    # Extent of the Flow's Segments, half-open [start, end); NULL when it has none.
    Column("timerange_start_ns", BigInteger),
    Column("timerange_end_ns", BigInteger),
    # Longest Segment ever registered: bounds window queries (start >= q_start - this).
    Column("max_segment_ns", BigInteger, nullable=False, server_default="0"),
    Column("deleted_ns", BigInteger),
    Column("deleted_by", Text),
    Index(None, "created_ns", "id"),
    Index(None, "metadata_updated_ns", "id"),
    Index(None, "label", "id"),
    Index(None, "source_id"),
)

flow_tags = _tag_table("flow_tags", "flow_id", "flows")

flow_collection_items = Table(
    "flow_collection_items",
    metadata,
    Column(
        "collector_id",
        ID,
        ForeignKey("flows.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("member_id", ID, ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
    Column("role", Text),
    Column("container_mapping", JSON),
    Index(None, "member_id"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("label", Text),
    Column("description", Text),
    Column("created_by", Text),
    Column("tags", JSON, nullable=False),
    Column("flow_metadata", JSON, nullable=False),
    # Copies of flow_metadata values, for filters:
    Column("format", String(64), nullable=False),
    Column("codec", Text),
    Column("created_ns", BigInteger, nullable=False),
)


def _segment_columns() -> list[Column[Any]]:
    """The columns of a Segment wherever it is kept, live or soft-deleted, after its
    Flow and start (fresh objects: a Column belongs to one table)."""
    return [
        Column("end_ns", BigInteger, nullable=False),
        Column("timerange", Text, nullable=False),
        Column("object_id", Text, nullable=False),
        Column("ts_offset", Text),
        Column("last_duration", Text),
        Column("object_timerange", Text),
        Column("sample_offset", BigInteger),
        Column("sample_count", BigInteger),
        Column("key_frame_count", Integer),
        Column("init_object_id", Text),
        Column("created_ns", BigInteger, nullable=False),
    ]


# Segments of live Flows, clustered by (flow, start): a window query is one index range
# scan. Ranges are half-open [start_ns, end_ns); segments of a Flow never overlap
# (PostgreSQL: the exclusion constraint of migration 0003; SQLite: checked inside the
# serialised write transaction).
segments = Table(
    "segments",
    metadata,
    Column("flow_id", ID, ForeignKey("flows.id"), primary_key=True),
    Column("start_ns", BigInteger, primary_key=True),
    *_segment_columns(),
    # Where its Object is (a copy of the Object's storage_id, storage_key, get_urls
    # and extra_instances), so that a listing reads no Object row: the JOIN cost
    # PostgreSQL an index probe per Segment, more than the rest of the page. Every
    # write that changes those columns of an Object changes these in the same
    # transaction (``store.object_places``); NULL extra_instances: not known, look up.
    Column("object_storage_id", ID),
    Column("object_storage_key", Text),
    Column("object_get_urls", JSON(none_as_null=True)),
    Column("object_extra_instances", Integer),
    Index(None, "object_id"),
    Index(None, "init_object_id"),
    sqlite_with_rowid=False,
)

# Objects known to the store: allocated for a Flow's uploads, or external ones (known
# only by the uncontrolled URLs given with their first Segment). Segments reference
# them by id; the bytes go when no Segment does (reference counting by query).
objects = Table(
    "objects",
    metadata,
    Column("id", Text, primary_key=True),
    # The Flow it was allocated for (or, for an external Object, first registered on).
    Column("first_flow_id", ID),
    Column("created_ns", BigInteger, nullable=False),
    # Where the bytes go: the backend, the key inside it, their content type. NULL
    # backend: the service holds no copy (external Object, or its copy was removed).
    Column("storage_id", ID),
    Column("storage_key", Text),
    Column("content_type", Text),
    # Until a Segment uses it, an allocated Object expires (and is cleaned up) then;
    # an Object whose last Segment went is set to expire at once.
    Column("expires_ns", BigInteger),
    # When the bytes were seen in the backend (NULL: not yet checked or not there).
    Column("uploaded_ns", BigInteger),
    # Their size then, in bytes (NULL for external Objects: the service never saw them).
    Column("size_bytes", BigInteger),
    # First registration of a Segment using it; NULL: allocated, never registered.
    Column("registered_ns", BigInteger),
    # "media" or "init", fixed by its first use.
    Column("kind", String(8)),
    # Media Objects: their own timeline, fixed at first registration.
    Column("timerange", Text),
    Column("start_ns", BigInteger),
    Column("end_ns", BigInteger),
    Column("key_frame_count", Integer),
    Column("init_object_id", Text),
    # Uncontrolled instances: JSON list of {"url", "label"} (TAMS ADR 0038, 0042).
    Column("get_urls", JSON(none_as_null=True)),
    # Rows in object_instances: listings look there only when this is not 0.
    Column("extra_instances", Integer, nullable=False, server_default="0"),
    Index(None, "expires_ns"),
)

# Controlled copies of an Object on further backends, beyond its first copy.
object_instances = Table(
    "object_instances",
    metadata,
    Column("object_id", Text, ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True),
    Column("storage_id", ID, primary_key=True),
    Column("storage_key", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
)

# Multipart uploads in progress, so that part URLs and completion are checked against
# the upload they belong to, and abandoned ones are aborted.
multipart_uploads = Table(
    "multipart_uploads",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("object_id", Text, nullable=False),
    Column("flow_id", ID, nullable=False),
    Column("storage_id", ID, nullable=False),
    Column("storage_key", Text, nullable=False),
    # The backend's own upload id (S3 UploadId); NULL for the local backend.
    Column("backend_upload_id", Text),
    Column("created_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=False),
    Index(None, "object_id"),
    Index(None, "expires_ns"),
)

# Deletions too large for one request, finished in batches by a background worker;
# a restart resumes from `next_start_ns`.
flow_delete_requests = Table(
    "flow_delete_requests",
    metadata,
    Column("id", ID, primary_key=True),
    Column("flow_id", ID, nullable=False),
    Column("timerange_to_delete", Text, nullable=False),
    Column("start_ns", BigInteger, nullable=False),
    Column("end_ns", BigInteger, nullable=False),
    Column("object_id", Text),
    Column("delete_flow", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("next_start_ns", BigInteger, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("created_by", Text),
    Column("updated_ns", BigInteger, nullable=False),
    Column("expiry_ns", BigInteger),
    Column("error", JSON(none_as_null=True)),
    # A worker owns a request until its lease runs out; another replica may take over.
    Column("lease_until_ns", BigInteger),
    Index(None, "status"),
    Index(None, "created_ns", "id"),
)

# Segments deleted softly (seed guide `soft_delete`): moved here with who and when, off
# the live timeline, so the Flow may take new Segments at their place.
deleted_segments = Table(
    "deleted_segments",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("flow_id", ID, nullable=False),
    Column("start_ns", BigInteger, nullable=False),
    *_segment_columns(),
    Column("deleted_ns", BigInteger, nullable=False),
    Column("deleted_by", Text),
    Index(None, "flow_id", "start_ns"),
    Index(None, "object_id"),
    Index(None, "init_object_id"),
)

# The outbox: every committed change's events, in commit order (design decision 8).
# `cursor` never repeats (SQLite AUTOINCREMENT, a PostgreSQL identity) and is handed
# out in commit order: writers insert their events last, under one lock. `payload` is
# the event as the EventService sends it (tams.v1.Event, without its cursor);
# `auth_classes` the classes of its Flow or Source when it was written (NULL: none).
events = Table(
    "events",
    metadata,
    Column(
        "cursor",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("event_type", String(32), nullable=False),
    Column("flow_id", ID),
    Column("source_id", ID),
    Column("created_ns", BigInteger, nullable=False),
    Column("auth_classes", JSON(none_as_null=True)),
    Column("payload", LargeBinary, nullable=False),
    Index(None, "created_ns"),
    sqlite_autoincrement=True,
)

# Webhook registrations (TAMS `/service/webhooks`) and each one's delivery state. List
# options are JSON arrays, NULL when unset (which differs from an empty array).
# `api_key_value` is a secret: kept for delivery, never read back by an RPC.
# Delivery: `next_cursor` is the first outbox cursor not yet delivered (a new webhook
# starts after the events committed before it); a worker owns a webhook while
# `lease_until_ns` lies ahead, retrying at `next_attempt_ns` after `attempts` failures.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("api_key_name", Text),
    Column("api_key_value", Text),
    Column("flow_ids", JSON(none_as_null=True)),
    Column("source_ids", JSON(none_as_null=True)),
    Column("flow_collected_by_ids", JSON(none_as_null=True)),
    Column("source_collected_by_ids", JSON(none_as_null=True)),
    Column("accept_get_urls", JSON(none_as_null=True)),
    Column("accept_storage_ids", JSON(none_as_null=True)),
    Column("presigned", Boolean),
    Column("verbose_storage", Boolean),
    Column("include_object_timerange", Boolean),
    Column("tags", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", JSON(none_as_null=True)),
    Column("created_ns", BigInteger, nullable=False),
    Column("created_by", Text),
    Column("next_cursor", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_ns", BigInteger),
    Column("lease_owner", Text),
    Column("lease_until_ns", BigInteger),
    Column("last_failure", JSON(none_as_null=True)),
    # The groups of the caller that last wrote the registration (NULL: its credentials
    # named none): deliveries carry only the events those groups may read.
    Column("owner_groups", JSON(none_as_null=True)),
    Index(None, "url", "id"),
    Index(None, "status"),
)

webhook_tags = _tag_table("webhook_tags", "webhook_id", "webhooks")
