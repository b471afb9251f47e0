"""events outbox

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00

The transactional outbox behind EventService.WatchEvents and webhook delivery.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "cursor",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("flow_id", sa.String(36)),
        sa.Column("source_id", sa.String(36)),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("auth_classes", sa.JSON(none_as_null=True)),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cursor", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_events_created_ns"), "events", ["created_ns"])


def downgrade() -> None:
    op.drop_index(op.f("ix_events_created_ns"), table_name="events")
    op.drop_table("events")
    # The watermark of retention goes with the events: a new events table numbers from
    # 1 again, and a stale watermark would put "now" past every new cursor.
    op.execute("DELETE FROM service_settings WHERE key = 'events_pruned_through'")
