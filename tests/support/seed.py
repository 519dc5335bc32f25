"""Rows and objects written straight into the real database and object store, for tests that
need a known state (tenants, API keys, finished jobs with faces) without running the pipeline."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from minio import Minio

from shared.access.auth import generate_key
from shared.db import ApiKey, Face, Job, JobStatus, SessionScope, Tenant, repo, session_scope
from shared.db.models import utcnow
from shared.ids import new_ulid
from shared.storage.keys import face_artifact_keys, segment_key, source_key


def jpeg_bytes(colour: tuple[int, int, int], size: int = 32) -> bytes:
    """A small real JPEG (so a browser can decode what the API serves)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, format="JPEG")
    return buf.getvalue()


def create_tenant_key(database_url: str, tenant_id: str) -> str:
    """A tenant (if new) and a fresh API key for it; returns the key's token."""
    token, prefix, key_hash = generate_key()
    with session_scope(database_url) as s:
        if s.get(Tenant, tenant_id) is None:
            s.add(Tenant(id=tenant_id, name=tenant_id))
            s.flush()
        s.add(ApiKey(id=new_ulid(), tenant_id=tenant_id, name="test", prefix=prefix, key_hash=key_hash))
    return token


@dataclass
class SeededJob:
    id: str
    #: (segment, frame, face, probability, has_evidence) in time order
    faces: list[tuple[int, int, int, float, bool]]
    #: artifact key → bytes stored
    artifacts: dict[str, bytes]


def seed_completed_job(
    database_url: str,
    s3: Minio,
    bucket: str,
    tenant_id: str,
    *,
    segments: int = 2,
    faces_per_segment: int = 3,
    media_deleted: bool = False,
) -> SeededJob:
    """A completed video job with faces; the two most suspicious faces of each segment have a
    thumbnail and a heatmap stored under artifacts/{job}/, as the detector stores them."""
    job_id = new_ulid()
    faces: list[tuple[int, int, int, float, bool]] = []
    artifacts: dict[str, bytes] = {}
    seg_rows = []
    for seg in range(segments):
        probs = [round(0.2 + 0.1 * seg + 0.05 * i, 3) for i in range(faces_per_segment)]
        top = sorted(range(faces_per_segment), key=lambda i: probs[i], reverse=True)[:2]
        for frame in range(faces_per_segment):
            faces.append((seg, frame, 0, probs[frame], frame in top))
        seg_rows.append(
            {
                "index": seg,
                "start_s": 2.0 * seg,
                "end_s": 2.0 * (seg + 1),
                "probability": sum(probs) / len(probs),
                "frames_sampled": faces_per_segment,
                "faces": faces_per_segment,
            }
        )
    if not s3.bucket_exists(bucket):
        s3.make_bucket(bucket)
    source = source_key(job_id, "mp4")
    s3.put_object(bucket, source, io.BytesIO(b"source video bytes"), 18)
    with session_scope(database_url) as s:
        s.add(
            Job(
                id=job_id,
                tenant_id=tenant_id,
                status=JobStatus.completed.value,
                media_kind="video",
                filename="seeded.mp4",
                content_type="video/mp4",
                size_bytes=18,
                source_key=source,
                duration_s=2.0 * segments,
                width=640,
                height=360,
                fps=25.0,
                segments_total=segments,
                segments_done=segments,
                media_deleted_at=utcnow() if media_deleted else None,
                result={
                    "verdict": "real",
                    "probability": 0.3,
                    "threshold": 0.5,
                    "model": {"name": "seeded", "version": "0", "sha256": "0" * 64},
                    "segments": seg_rows,
                    "faces_scored": len(faces),
                },
            )
        )
        s.flush()
        for seg, frame, face, prob, evidence in faces:
            thumb = heat = None
            if evidence:
                thumb, heat = face_artifact_keys(job_id, seg, frame, face)
                for key, colour in ((thumb, (200, 160, 140)), (heat, (220, 60, 40))):
                    data = jpeg_bytes(colour)
                    s3.put_object(bucket, key, io.BytesIO(data), len(data), content_type="image/jpeg")
                    artifacts[key] = data
            s.add(
                Face(
                    job_id=job_id,
                    segment_index=seg,
                    frame_index=frame,
                    face_index=face,
                    time_s=2.0 * seg + 0.25 * frame,
                    box=[10.0, 20.0, 110.0, 140.0],
                    detection_confidence=0.99,
                    probability=prob,
                    thumbnail_key=thumb,
                    heatmap_key=heat,
                )
            )
    return SeededJob(id=job_id, faces=faces, artifacts=artifacts)


def add_job(
    sessions: SessionScope, *, tenant: str = "local", status: str = "queued", segments: int = 0, **values: Any
) -> str:
    """A job row (a 1000-byte MP4 upload) in `status`, with `segments` pending segment rows and
    any other column set from `values`; returns its id."""
    job_id = new_ulid()
    with sessions() as s:
        s.add(
            Job(
                id=job_id,
                tenant_id=tenant,
                status=status,
                media_kind="video",
                content_type="video/mp4",
                size_bytes=1000,
                source_key=f"uploads/{job_id}/source.mp4",
                **values,
            )
        )
        s.flush()
        if segments:
            repo.insert_segments(
                s,
                job_id,
                [
                    {
                        "index": i,
                        "start_s": 2.0 * i,
                        "end_s": 2.0 * i + 2,
                        "object_key": segment_key(job_id, i),
                    }
                    for i in range(segments)
                ],
            )
    return job_id
