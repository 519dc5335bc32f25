"""Job rows → public documents. The API's answers and the webhook payloads use the same one."""

from __future__ import annotations

from typing import Any

from shared.db.models import Face, Job
from shared.jobs.schemas import FacePublic, JobPublic, MediaPublic, ProgressPublic
from shared.storage.keys import artifact_prefix
from shared.types import ScoredFace


def job_public(job: Job) -> JobPublic:
    return JobPublic(
        id=job.id,
        status=job.status,  # type: ignore[arg-type]
        created_at=job.created_at,
        updated_at=job.updated_at,
        completed_at=job.completed_at,
        media=MediaPublic(
            kind=job.media_kind,  # type: ignore[arg-type]
            filename=job.filename,
            size_bytes=job.size_bytes,
            duration_s=job.duration_s,
            width=job.width,
            height=job.height,
            fps=job.fps,
            deleted_at=job.media_deleted_at,
        ),
        progress=ProgressPublic(segments_total=job.segments_total, segments_done=job.segments_done),
        result=job.result,  # type: ignore[arg-type]
        provenance=job.provenance,  # type: ignore[arg-type]
        error=job.error,
        callback_url=job.callback_url,
        metadata=job.meta or {},
    )


def job_document(job: Job) -> dict[str, Any]:
    """`job_public` as JSON-ready data (webhook payloads, the CLI)."""
    return job_public(job).model_dump(mode="json")


def artifact_url(job_id: str, key: str | None) -> str | None:
    """The API path serving an object key, if it is one of the job's artifacts."""
    prefix = artifact_prefix(job_id)
    if not key or not key.startswith(prefix):
        return None
    return f"/v1/jobs/{job_id}/artifacts/{key[len(prefix) :]}"


def face_public(face: Face, *, media_deleted: bool = False) -> FacePublic:
    """A stored face, shaped (and rounded) by the same `ScoredFace.to_public` as the runner's
    faces; its image URLs only while the job's media (artifacts included) still exist."""
    scored = ScoredFace(
        frame_index=face.frame_index,
        face_index=face.face_index,
        time_s=face.time_s,
        box=tuple(float(v) for v in face.box),  # type: ignore[arg-type]
        confidence=face.detection_confidence,
        probability=face.probability,
    )
    return FacePublic(
        segment_index=face.segment_index,
        **scored.to_public(),
        thumbnail_url=None if media_deleted else artifact_url(face.job_id, face.thumbnail_key),
        heatmap_url=None if media_deleted else artifact_url(face.job_id, face.heatmap_key),
    )
