"""tag tables indexed by owner, name and value

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00

A ``tag.{name}`` or ``tag_exists.{name}`` filter is an EXISTS on the tag table for
each listed resource. With only ``(owner)`` and ``(name, value)`` to choose from,
SQLite probed ``(name, value)`` and walked every resource holding that tag for each
row listed (seconds at 10,000 Flows). ``(owner, name, value)`` answers each probe
from one index entry; it replaces ``(owner)``, its prefix.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TAG_TABLES = (
    ("source_tags", "source_id"),
    ("flow_tags", "flow_id"),
    ("webhook_tags", "webhook_id"),
)


def upgrade() -> None:
    for table, owner in TAG_TABLES:
        op.create_index(op.f(f"ix_{table}_{owner}_name_value"), table, [owner, "name", "value"])
        op.drop_index(op.f(f"ix_{table}_{owner}"), table_name=table)


def downgrade() -> None:
    for table, owner in TAG_TABLES:
        op.create_index(op.f(f"ix_{table}_{owner}"), table, [owner])
        op.drop_index(op.f(f"ix_{table}_{owner}_name_value"), table_name=table)
