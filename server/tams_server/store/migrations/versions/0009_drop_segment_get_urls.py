"""drop segments.get_urls

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00

Unused since 0007 (always NULL): uncontrolled URLs belong to the Object (TAMS ADR
0038, objects.get_urls). Soft deletion copies a Segment's columns by name, so the
column goes from both tables. A plain ALTER TABLE ... DROP COLUMN on both engines
(SQLite >= 3.35): a batch copy of segments would lose its WITHOUT ROWID.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLES = ("segments", "deleted_segments")


def upgrade() -> None:
    for table in _TABLES:
        op.drop_column(table, "get_urls")


def downgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("get_urls", sa.JSON(none_as_null=True), nullable=True))
