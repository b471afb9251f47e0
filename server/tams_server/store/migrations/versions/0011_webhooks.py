"""webhooks

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00

Webhook registrations (TAMS `/service/webhooks`), their tags, and each webhook's
delivery state in the outbox (next cursor, attempts, lease, last failure).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("api_key_name", sa.Text()),
        sa.Column("api_key_value", sa.Text()),
        sa.Column("flow_ids", sa.JSON(none_as_null=True)),
        sa.Column("source_ids", sa.JSON(none_as_null=True)),
        sa.Column("flow_collected_by_ids", sa.JSON(none_as_null=True)),
        sa.Column("source_collected_by_ids", sa.JSON(none_as_null=True)),
        sa.Column("accept_get_urls", sa.JSON(none_as_null=True)),
        sa.Column("accept_storage_ids", sa.JSON(none_as_null=True)),
        sa.Column("presigned", sa.Boolean()),
        sa.Column("verbose_storage", sa.Boolean()),
        sa.Column("include_object_timerange", sa.Boolean()),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.JSON(none_as_null=True)),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text()),
        sa.Column("next_cursor", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_ns", sa.BigInteger()),
        sa.Column("lease_owner", sa.Text()),
        sa.Column("lease_until_ns", sa.BigInteger()),
        sa.Column("last_failure", sa.JSON(none_as_null=True)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_url_id"), "webhooks", ["url", "id"])
    op.create_index(op.f("ix_webhooks_status"), "webhooks", ["status"])
    op.create_table(
        "webhook_tags",
        sa.Column("webhook_id", sa.String(36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text()),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"],
            name=op.f("fk_webhook_tags_webhook_id_webhooks"), ondelete="CASCADE",
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_webhook_tags_webhook_id"), "webhook_tags", ["webhook_id"])
    op.create_index(op.f("ix_webhook_tags_name_value"), "webhook_tags", ["name", "value"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_tags_name_value"), table_name="webhook_tags")
    op.drop_index(op.f("ix_webhook_tags_webhook_id"), table_name="webhook_tags")
    op.drop_table("webhook_tags")
    op.drop_index(op.f("ix_webhooks_status"), table_name="webhooks")
    op.drop_index(op.f("ix_webhooks_url_id"), table_name="webhooks")
    op.drop_table("webhooks")
