"""SQLAlchemy 2 models: the source of truth for every job.

Tasks carry only ids; all state lives here. The schema is built by Alembic migrations
(`migrations/`), never by `create_all` outside tests.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class JobStatus(enum.StrEnum):
    queued = "queued"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.completed, JobStatus.failed, JobStatus.cancelled)


class SegmentStatus(enum.StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    webhook_secret_previous: Mapped[str | None] = mapped_column(String(200))
    #: Until when the previous secret still signs (both signatures are sent during a rotation).
    webhook_secret_previous_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Overrides settings.max_running_jobs_per_tenant (0 = no cap).
    max_running_jobs: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Override settings.rate_limit_per_minute / rate_limit_burst for this key.
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    rate_limit_burst: Mapped[int | None] = mapped_column(Integer)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_tenant_id_id", "tenant_id", "id"),
        Index("ix_jobs_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default="local")
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # media (filled at upload, then by the probe)
    media_kind: Mapped[str] = mapped_column(String(8))  # video | image
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    source_key: Mapped[str] = mapped_column(String(255))
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fps: Mapped[float | None] = mapped_column(Float)
    rotation: Mapped[int | None] = mapped_column(Integer)
    media_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    segments_total: Mapped[int | None] = mapped_column(Integer)
    segments_done: Mapped[int] = mapped_column(Integer, default=0)

    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: The upload's C2PA Content Credentials (shared/provenance), once the first stage read them.
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    callback_url: Mapped[str | None] = mapped_column(Text)
    #: Set when the receiver answered 410 Gone: no more events are sent for this job.
    callback_disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)

    segments: Mapped[list[Segment]] = relationship(
        back_populates="job", order_by="Segment.index", cascade="all, delete-orphan", passive_deletes=True
    )


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("job_id", "index", name="uq_segments_job_id_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float, default=0.0)
    end_s: Mapped[float] = mapped_column(Float, default=0.0)
    object_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=SegmentStatus.pending.value)
    probability: Mapped[float | None] = mapped_column(Float)
    frames_sampled: Mapped[int | None] = mapped_column(Integer)
    faces: Mapped[int | None] = mapped_column(Integer)
    timings: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    model: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    worker: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    job: Mapped[Job] = relationship(back_populates="segments")


class Face(Base):
    """One scored face crop: the evidence behind a segment's probability."""

    __tablename__ = "faces"
    __table_args__ = (
        UniqueConstraint("job_id", "segment_index", "frame_index", "face_index", name="uq_faces_identity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    segment_index: Mapped[int] = mapped_column(Integer)
    frame_index: Mapped[int] = mapped_column(Integer)
    face_index: Mapped[int] = mapped_column(Integer)
    time_s: Mapped[float] = mapped_column(Float)
    box: Mapped[list[float]] = mapped_column(JSONType)
    detection_confidence: Mapped[float] = mapped_column(Float)
    probability: Mapped[float] = mapped_column(Float)
    #: an ensemble's members' probabilities of this face, in member order (`probability` is their mean)
    member_probabilities: Mapped[list[float] | None] = mapped_column(JSONType)
    thumbnail_key: Mapped[str | None] = mapped_column(String(255))
    heatmap_key: Mapped[str | None] = mapped_column(String(255))


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for its next try
    sending = "sending"  # a worker is trying it now
    succeeded = "succeeded"
    failed = "failed"  # attempts exhausted, or refused by the SSRF guard
    disabled = "disabled"  # the receiver answered 410 Gone


class WebhookDelivery(Base):
    """One event to deliver to a job's callback URL; `id` is the stable `webhook-id`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("job_id", "event_type", name="uq_webhook_deliveries_job_event"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The job whose event this is; None for a stream's event (then `stream_id` is set).
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    stream_id: Mapped[str | None] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The delivery gives up after this attempt number (a redelivery raises it).
    attempt_limit: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.number", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class IdempotencyKey(Base):
    """An `Idempotency-Key` a tenant used on POST /v1/jobs: claimed before the body is read
    (so a concurrent duplicate sees it in flight), then bound to the job and the payload's
    fingerprint in the transaction that creates the job."""

    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="in_flight")  # in_flight | done
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    #: Set instead of job_id when the key was used on POST /v1/streams.
    stream_id: Mapped[str | None] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Upload(Base):
    """A presigned direct-to-S3 upload; the job made from it takes its id."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    object_key: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str | None] = mapped_column(String(255))
    max_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))


class StreamStatus(enum.StrEnum):
    connecting = "connecting"
    live = "live"
    ended = "ended"  # the source stopped or max_duration_s was reached
    failed = "failed"
    stopped = "stopped"  # DELETE /v1/streams/{id}

    @property
    def is_terminal(self) -> bool:
        return self in (StreamStatus.ended, StreamStatus.failed, StreamStatus.stopped)


class Stream(Base):
    """A live source watched by one ingest task; its segments are scored as they close."""

    __tablename__ = "streams"
    __table_args__ = (
        Index("ix_streams_tenant_id_id", "tenant_id", "id"),
        Index("ix_streams_status_heartbeat_at", "status", "heartbeat_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), default="local")
    status: Mapped[str] = mapped_column(String(16), default=StreamStatus.connecting.value)
    #: As submitted (credentials included: ffmpeg needs them); never shown, see `url_redacted`.
    url: Mapped[str] = mapped_column(Text)
    url_redacted: Mapped[str] = mapped_column(Text)
    callback_url: Mapped[str | None] = mapped_column(Text)
    callback_disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    segment_seconds: Mapped[float] = mapped_column(Float)
    max_duration_s: Mapped[float] = mapped_column(Float)
    #: None: the threshold of the model that scores the segments.
    alert_threshold: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the retention sweep deleted what media of the stream was left (see docs/streams.md).
    media_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How the ingest finished (ended | failed | stopped); the stream takes this status once its
    #: last segment is scored.
    ingest_outcome: Mapped[str | None] = mapped_column(String(16))
    segments_done: Mapped[int] = mapped_column(Integer, default=0)
    #: Seconds of the stream already cut into segments (a resumed ingest continues from here).
    ingested_s: Mapped[float] = mapped_column(Float, default=0.0)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    rolling: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    #: Inside an alert episode (the rolling probability crossed the threshold and has not fallen back).
    alert_active: Mapped[bool] = mapped_column(Boolean, default=False)
    alerts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    model: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    event_seq: Mapped[int] = mapped_column(Integer, default=0)


class StreamSegment(Base):
    __tablename__ = "stream_segments"
    __table_args__ = (UniqueConstraint("stream_id", "index", name="uq_stream_segments_stream_id_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    object_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=SegmentStatus.pending.value)
    probability: Mapped[float | None] = mapped_column(Float)
    faces: Mapped[int | None] = mapped_column(Integer)
    frames_sampled: Mapped[int | None] = mapped_column(Integer)
    timings: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StreamEvent(Base):
    """The server-sent events of a stream, numbered 1, 2, ... (`id:` of SSE, `Last-Event-ID`)."""

    __tablename__ = "stream_events"
    __table_args__ = (UniqueConstraint("stream_id", "seq", name="uq_stream_events_stream_id_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))  # segment | alert | status
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
