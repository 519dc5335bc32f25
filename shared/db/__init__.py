"""Persistence: models, engines/sessions, and the data-access functions in `repo`."""

from shared.db.engine import (
    dispose_engines,
    get_engine,
    ping,
    session_factory,
    session_scope,
    upgrade_database,
)
from shared.db.models import (
    ApiKey,
    Base,
    DeliveryStatus,
    Face,
    IdempotencyKey,
    Job,
    JobStatus,
    Segment,
    SegmentStatus,
    Tenant,
    Upload,
    WebhookAttempt,
    WebhookDelivery,
)

__all__ = [
    "ApiKey",
    "Base",
    "DeliveryStatus",
    "Face",
    "IdempotencyKey",
    "Job",
    "JobStatus",
    "Segment",
    "SegmentStatus",
    "Tenant",
    "Upload",
    "WebhookAttempt",
    "WebhookDelivery",
    "dispose_engines",
    "get_engine",
    "ping",
    "session_factory",
    "session_scope",
    "upgrade_database",
]
