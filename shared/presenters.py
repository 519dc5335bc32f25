"""Database rows → public documents: the API answers and the webhook payloads use the same ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.db.models import Job, WebhookDelivery


def rfc3339(value: datetime | None) -> str | None:
    """UTC timestamps with a `Z`, the same whichever database stored them."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def job_public(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "created_at": rfc3339(job.created_at),
        "updated_at": rfc3339(job.updated_at),
        "completed_at": rfc3339(job.completed_at),
        "media": {
            "kind": job.media_kind,
            "filename": job.filename,
            "size_bytes": job.size_bytes,
            "duration_s": job.duration_s,
            "width": job.width,
            "height": job.height,
            "fps": job.fps,
            "deleted_at": rfc3339(job.media_deleted_at),
        },
        "progress": {"segments_total": job.segments_total, "segments_done": job.segments_done},
        "result": job.result,
        "error": job.error,
        "callback_url": job.callback_url,
        "metadata": job.meta or {},
    }


def delivery_public(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "type": delivery.event_type,
        "url": delivery.url,
        "status": delivery.status,
        "max_attempts": delivery.attempt_limit,
        "next_attempt_at": rfc3339(delivery.next_attempt_at),
        "created_at": rfc3339(delivery.created_at),
        "updated_at": rfc3339(delivery.updated_at),
        "attempts": [
            {
                "number": a.number,
                "started_at": rfc3339(a.started_at),
                "finished_at": rfc3339(a.finished_at),
                "status_code": a.status_code,
                "duration_ms": a.duration_ms,
                "response_excerpt": a.response_excerpt,
                "error": a.error,
            }
            for a in delivery.attempt_log
        ],
    }
