"""The retention pass in-process: old media goes, results stay, recent media is kept."""

from __future__ import annotations

from datetime import timedelta

from shared.config import Settings
from shared.db import IdempotencyKey, Job, JobStatus, Upload, session_scope
from shared.db.models import utcnow
from shared.jobs.lifecycle import expire
from shared.storage import get_store


def make_job(job_id: str, age: timedelta, status: str = JobStatus.completed.value) -> None:
    done = utcnow() - age
    with session_scope() as s:
        s.add(
            Job(
                id=job_id,
                status=status,
                media_kind="video",
                content_type="video/mp4",
                size_bytes=3,
                source_key=f"uploads/{job_id}/source.mp4",
                result={"verdict": "real", "probability": 0.1},
                completed_at=done if status != JobStatus.processing.value else None,
                updated_at=done,
            )
        )
    store = get_store()
    store.put_bytes(f"uploads/{job_id}/source.mp4", b"abc")
    store.put_bytes(f"segments/{job_id}/00000.mkv", b"abc")
    store.put_bytes(f"artifacts/{job_id}/face-0.jpg", b"abc")


def keys_of(job_id: str) -> list[str]:
    store = get_store()
    return [o.key for p in ("uploads", "segments", "artifacts") for o in store.list(f"{p}/{job_id}/")]


def test_media_older_than_the_retention_period_is_deleted_and_results_stay(
    embedded_settings: Settings,
) -> None:
    make_job("01JOLD00000000000000000000", timedelta(days=8))
    make_job("01JNEW00000000000000000000", timedelta(days=1))
    make_job("01JRUN00000000000000000000", timedelta(days=9), status=JobStatus.processing.value)
    now = utcnow()
    with session_scope() as s:
        s.add(
            Upload(
                id="01JUNUSED00000000000000000",
                tenant_id="local",
                object_key="uploads/01JUNUSED00000000000000000/source",
                max_bytes=10,
                expires_at=now - timedelta(hours=2),
            )
        )
        s.add(
            IdempotencyKey(tenant_id="local", key="old", state="done", expires_at=now - timedelta(seconds=1))
        )
        s.add(
            IdempotencyKey(tenant_id="local", key="fresh", state="done", expires_at=now + timedelta(hours=1))
        )
    get_store().put_bytes("uploads/01JUNUSED00000000000000000/source", b"abc")

    report = expire(embedded_settings)

    assert (report.jobs, report.uploads, report.idempotency_keys) == (1, 1, 1)
    assert report.objects == 4
    assert keys_of("01JOLD00000000000000000000") == []
    assert len(keys_of("01JNEW00000000000000000000")) == 3, "younger than 7 days: kept"
    assert len(keys_of("01JRUN00000000000000000000")) == 3, "an unfinished job's media is never expired"
    assert not get_store().exists("uploads/01JUNUSED00000000000000000/source")
    with session_scope() as s:
        old = s.get(Job, "01JOLD00000000000000000000")
        assert old is not None and old.media_deleted_at is not None
        assert old.result == {"verdict": "real", "probability": 0.1} and old.status == "completed"
        assert s.get(Job, "01JNEW00000000000000000000").media_deleted_at is None  # type: ignore[union-attr]
        assert s.get(IdempotencyKey, ("local", "old")) is None
        assert s.get(IdempotencyKey, ("local", "fresh")) is not None
    assert expire(embedded_settings).jobs == 0, "a second pass finds nothing"
