"""webhook owner groups

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00

Deliveries carry only the events of Flows and Sources that the groups of the
webhook's last writer may read (fine-grained access by auth_classes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_groups", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("owner_groups")
