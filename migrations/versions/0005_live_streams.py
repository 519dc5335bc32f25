"""Live streams: streams, stream_segments, stream_events; webhook deliveries of stream events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "streams",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_redacted", sa.Text(), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("callback_disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("segment_seconds", sa.Float(), nullable=False),
        sa.Column("max_duration_s", sa.Float(), nullable=False),
        sa.Column("alert_threshold", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("media_deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        sa.Column("ingest_outcome", sa.String(16), nullable=True),
        sa.Column("segments_done", sa.Integer(), nullable=False),
        sa.Column("ingested_s", sa.Float(), nullable=False),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("rolling", _json(), nullable=True),
        sa.Column("alert_active", sa.Boolean(), nullable=False),
        sa.Column("alerts", _json(), nullable=False),
        sa.Column("error", _json(), nullable=True),
        sa.Column("model", _json(), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streams")),
    )
    op.create_index("ix_streams_tenant_id_id", "streams", ["tenant_id", "id"])
    op.create_index("ix_streams_status_heartbeat_at", "streams", ["status", "heartbeat_at"])
    op.create_table(
        "stream_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.String(26), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("object_key", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("faces", sa.Integer(), nullable=True),
        sa.Column("frames_sampled", sa.Integer(), nullable=True),
        sa.Column("timings", _json(), nullable=True),
        sa.Column("error", _json(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["streams.id"],
            name=op.f("fk_stream_segments_stream_id_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_segments")),
        sa.UniqueConstraint("stream_id", "index", name="uq_stream_segments_stream_id_index"),
    )
    op.create_index(op.f("ix_stream_segments_stream_id"), "stream_segments", ["stream_id"])
    op.create_table(
        "stream_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.String(26), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"], ["streams.id"], name=op.f("fk_stream_events_stream_id_streams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_events")),
        sa.UniqueConstraint("stream_id", "seq", name="uq_stream_events_stream_id_seq"),
    )
    op.create_index(op.f("ix_stream_events_stream_id"), "stream_events", ["stream_id"])
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.alter_column("job_id", existing_type=sa.String(26), nullable=True)
        batch_op.add_column(sa.Column("stream_id", sa.String(26), nullable=True))
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_stream_id"), ["stream_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_webhook_deliveries_stream_id_streams"),
            "streams",
            ["stream_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream_id", sa.String(26), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_idempotency_keys_stream_id_streams"),
            "streams",
            ["stream_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_idempotency_keys_stream_id_streams"), type_="foreignkey")
        batch_op.drop_column("stream_id")
    op.execute("DELETE FROM webhook_deliveries WHERE job_id IS NULL")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_webhook_deliveries_stream_id_streams"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_stream_id"))
        batch_op.drop_column("stream_id")
        batch_op.alter_column("job_id", existing_type=sa.String(26), nullable=False)
    op.drop_table("stream_events")
    op.drop_table("stream_segments")
    op.drop_table("streams")
