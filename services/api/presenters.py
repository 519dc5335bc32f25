"""Database rows → public documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.db.models import Job


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
        },
        "progress": {"segments_total": job.segments_total, "segments_done": job.segments_done},
        "result": job.result,
        "error": job.error,
        "callback_url": job.callback_url,
        "metadata": job.meta or {},
    }
