"""Database rows → public documents: the API answers and the webhook payloads use the same ones."""

from __future__ import annotations

from typing import Any

from shared.db.models import Job, WebhookDelivery


def job_public(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
        "media": {
            "kind": job.media_kind,
            "filename": job.filename,
            "size_bytes": job.size_bytes,
            "duration_s": job.duration_s,
            "width": job.width,
            "height": job.height,
            "fps": job.fps,
            "deleted_at": job.media_deleted_at.isoformat() if job.media_deleted_at else None,
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
        "next_attempt_at": delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None,
        "created_at": delivery.created_at.isoformat(),
        "updated_at": delivery.updated_at.isoformat(),
        "attempts": [
            {
                "number": a.number,
                "started_at": a.started_at.isoformat(),
                "finished_at": a.finished_at.isoformat() if a.finished_at else None,
                "status_code": a.status_code,
                "duration_ms": a.duration_ms,
                "response_excerpt": a.response_excerpt,
                "error": a.error,
            }
            for a in delivery.attempt_log
        ],
    }
