"""The end of a job's media: cancellation and retention.

Media (the upload, the segments, any artifacts) is deleted when a job is cancelled or
deleted, and by a periodic sweep once it is older than the retention period; the job's
result and its delivery log stay. Deleting by prefix makes a second pass harmless, which is
what a worker does when it notices a cancellation after writing objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update

from shared.broker import revoke_job_tasks
from shared.config import Settings, get_settings
from shared.db import IdempotencyKey, Job, JobStatus, SessionScope, Upload, repo, scope_for
from shared.db.models import utcnow
from shared.jobs.events import announce_finished
from shared.storage import ObjectStore, get_store
from shared.storage.keys import job_prefixes, upload_prefix

log = logging.getLogger(__name__)

TERMINAL = (JobStatus.completed.value, JobStatus.failed.value, JobStatus.cancelled.value)
#: An unused presigned upload's object is kept this long after its URL expired (a PUT that
#: started just before expiry may still be finishing).
UPLOAD_GRACE = timedelta(hours=1)


def delete_media(store: ObjectStore, job_id: str) -> int:
    """Delete every object of the job; returns how many there were."""
    return sum(store.delete_prefix(prefix) for prefix in job_prefixes(job_id))


def mark_media_deleted(job_id: str, sessions: SessionScope) -> None:
    with sessions() as s:
        s.execute(update(Job).where(Job.id == job_id).values(media_deleted_at=utcnow()))


def cancel_and_delete(
    job_id: str,
    tenant_id: str,
    store: ObjectStore,
    settings: Settings,
    *,
    purge: bool = False,
    sessions: SessionScope | None = None,
) -> Job | None:
    """DELETE of a job: an unfinished job is cancelled (queued work revoked, `job.cancelled`
    announced even if deleting the media then fails); its media is deleted in every case. With
    `purge` the row, its result and its delivery log go too (no webhook) and None is returned.
    NotFound when the job is not the tenant's; StorageUnavailable leaves the rest for retention."""
    sessions = sessions or scope_for(settings)
    with sessions() as s:
        job = repo.get_job(s, job_id, tenant_id, for_update=True)
        cancelled = repo.cancel_job(s, job.id)
        segments = job.segments_total or 0
    if cancelled:
        revoke_job_tasks(job_id, segments)
        log.info("job cancelled", extra={"job_id": job_id, "tenant_id": tenant_id})
        if not purge:
            announce_finished(job_id, settings, sessions)
    delete_media(store, job_id)
    if purge:
        with sessions() as s:
            s.execute(delete(Job).where(Job.id == job_id, Job.tenant_id == tenant_id))
        log.info("job purged", extra={"job_id": job_id, "tenant_id": tenant_id})
        return None
    mark_media_deleted(job_id, sessions)
    with sessions() as s:
        return repo.get_job(s, job_id, tenant_id)


@dataclass
class RetentionReport:
    jobs: int = 0
    objects: int = 0
    uploads: int = 0
    idempotency_keys: int = 0


def expire(
    settings: Settings | None = None, *, now: datetime | None = None, batch: int = 200
) -> RetentionReport:
    """One retention pass: media of jobs finished more than `media_retention_days` ago,
    presigned uploads never turned into a job, expired idempotency keys."""
    settings = settings or get_settings()
    sessions = scope_for(settings)
    store = get_store(settings)
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.media_retention_days)
    report = RetentionReport()
    with sessions() as s:
        ids = list(
            s.execute(
                select(Job.id)
                .where(
                    Job.status.in_(TERMINAL),
                    Job.media_deleted_at.is_(None),
                    or_(Job.completed_at < cutoff, and_(Job.completed_at.is_(None), Job.updated_at < cutoff)),
                )
                .order_by(Job.id)
                .limit(batch)
            ).scalars()
        )
    for job_id in ids:
        report.objects += delete_media(store, job_id)
        with sessions() as s:
            s.execute(update(Job).where(Job.id == job_id).values(media_deleted_at=now))
        report.jobs += 1
        log.info("media expired", extra={"job_id": job_id})
    with sessions() as s:
        stale_uploads = list(
            s.execute(
                select(Upload)
                .where(Upload.job_id.is_(None), Upload.expires_at < now - UPLOAD_GRACE)
                .limit(batch)
            ).scalars()
        )
        for upload in stale_uploads:
            report.objects += store.delete_prefix(upload_prefix(upload.id))
            s.delete(upload)
            report.uploads += 1
        res = s.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < now))
        report.idempotency_keys = int(res.rowcount or 0)  # type: ignore[attr-defined]
    return report
