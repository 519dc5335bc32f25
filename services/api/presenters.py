"""Database rows → public documents."""

from __future__ import annotations

from typing import Any

from shared.db.models import Job


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
        },
        "progress": {"segments_total": job.segments_total, "segments_done": job.segments_done},
        "result": job.result,
        "error": job.error,
        "callback_url": job.callback_url,
        "metadata": job.meta or {},
    }
