"""Faces keep an ensemble's per-member probabilities, so aggregations that work per model (the
DFDC winner's confident strategy) are reproduced by the aggregator worker.

Revision ID: 0004
Revises: 0003_c2pa_provenance
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003_c2pa_provenance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "member_probabilities",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("faces", schema=None) as batch_op:
        batch_op.drop_column("member_probabilities")
