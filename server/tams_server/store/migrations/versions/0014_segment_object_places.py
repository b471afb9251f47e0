"""segments keep where their Object is

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 20:45:00

A listing with get_urls joined each Segment to its Object for the Object's storage_id,
storage_key, get_urls and extra_instances. On PostgreSQL that JOIN is an index probe
per Segment: 3 ms of a 1,000-Segment page that takes 0.3 ms without it. The live
Segment now keeps a copy of those four (``store.object_places`` keeps them in step);
soft-deleted Segments are listed rarely and keep the JOIN. Existing rows are filled
from their Objects; a Segment whose Object row is missing keeps NULL
extra_instances, which a listing reads as "look the Object up".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("object_storage_id", sa.String(36), "storage_id"),
    ("object_storage_key", sa.Text(), "storage_key"),
    ("object_get_urls", sa.JSON(none_as_null=True), "get_urls"),
    ("object_extra_instances", sa.Integer(), "extra_instances"),
)


def upgrade() -> None:
    for name, kind, _ in _COLUMNS:
        op.add_column("segments", sa.Column(name, kind, nullable=True))
    # UPDATE ... FROM: PostgreSQL, and SQLite since 3.33.
    assignments = ", ".join(f"{name} = o.{source}" for name, _, source in _COLUMNS)
    op.execute(
        f"UPDATE segments SET {assignments} FROM objects AS o WHERE o.id = segments.object_id"
    )


def downgrade() -> None:
    for name, _, _ in reversed(_COLUMNS):
        op.drop_column("segments", name)
