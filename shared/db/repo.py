"""Data access in one place. Every state change is a guarded UPDATE so that a redelivered or
late task can never move a job backwards (e.g. resurrect a cancelled job)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from shared.db.models import Face, Job, JobStatus, Segment, SegmentStatus, utcnow
from shared.errors import NotFound
from shared.types import ScoredFace

ACTIVE = (JobStatus.queued.value, JobStatus.processing.value)


def dialect_insert(session: Session) -> Any:
    """The `insert` construct of the session's dialect (for ON CONFLICT upserts)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert
    raise RuntimeError(f"unsupported database {name}")  # only the two supported backends


def get_job(session: Session, job_id: str, tenant_id: str | None = None, *, for_update: bool = False) -> Job:
    """The job, if it exists and (when given) belongs to `tenant_id`; else NotFound (never 403)."""
    stmt = select(Job).where(Job.id == job_id)
    if tenant_id is not None:
        stmt = stmt.where(Job.tenant_id == tenant_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    job = session.execute(stmt).scalar_one_or_none()
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def find_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def list_jobs(
    session: Session, tenant_id: str, *, status: str | None = None, limit: int = 20, cursor: str | None = None
) -> tuple[list[Job], str | None]:
    """Newest first. The cursor is the id of the last job of the previous page (ULIDs sort by time)."""
    stmt = select(Job).where(Job.tenant_id == tenant_id)
    if status:
        stmt = stmt.where(Job.status == status)
    if cursor:
        stmt = stmt.where(Job.id < cursor)
    rows = list(session.execute(stmt.order_by(Job.id.desc()).limit(limit + 1)).scalars())
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


def segments_of(session: Session, job_id: str) -> list[Segment]:
    return list(
        session.execute(select(Segment).where(Segment.job_id == job_id).order_by(Segment.index)).scalars()
    )


def get_segment(session: Session, job_id: str, index: int) -> Segment | None:
    return session.execute(
        select(Segment).where(Segment.job_id == job_id, Segment.index == index)
    ).scalar_one_or_none()


def mark_processing(session: Session, job_id: str) -> bool:
    now = utcnow()
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.queued.value)
        .values(status=JobStatus.processing.value, started_at=now, updated_at=now)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def touch(session: Session, job_id: str) -> None:
    session.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE)).values(updated_at=utcnow()))


def fail_job(session: Session, job_id: str, problem: dict[str, Any]) -> bool:
    """Move an active job to `failed` with a problem-details error. False if it had already ended."""
    now = utcnow()
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(status=JobStatus.failed.value, error=problem, completed_at=now, updated_at=now)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def complete_job(session: Session, job_id: str, result: dict[str, Any], segments_done: int) -> bool:
    now = utcnow()
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE), Job.cancel_requested.is_(False))
        .values(
            status=JobStatus.completed.value,
            result=result,
            error=None,
            completed_at=now,
            updated_at=now,
            segments_done=segments_done,
        )
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def cancel_job(session: Session, job_id: str) -> bool:
    """Move an active job to `cancelled` and raise its cancel flag (workers read it between
    stages and batches). False if it had already ended: a finished result is never rewritten."""
    now = utcnow()
    res = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(status=JobStatus.cancelled.value, cancel_requested=True, completed_at=now, updated_at=now)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def count_active_jobs(session: Session, tenant_id: str) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(Job).where(Job.tenant_id == tenant_id, Job.status.in_(ACTIVE))
        ).scalar_one()
    )


def set_media_info(session: Session, job_id: str, **values: Any) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow(), **values))


def insert_segments(session: Session, job_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert segment rows; rows already present (same job and index) are left untouched."""
    if not rows:
        return
    insert = dialect_insert(session)
    stmt = insert(Segment).values([{"job_id": job_id, **r} for r in rows])
    session.execute(stmt.on_conflict_do_nothing(index_elements=["job_id", "index"]))
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.segments_total.is_(None))
        .values(segments_total=len(rows), updated_at=utcnow())
    )


def record_segment_result(
    session: Session,
    job_id: str,
    index: int,
    *,
    probability: float | None,
    frames_sampled: int,
    faces: Iterable[ScoredFace],
    timings: dict[str, float],
    model: dict[str, Any],
    worker: str | None,
    artifact_keys: dict[tuple[int, int], tuple[str | None, str | None]] | None = None,
) -> None:
    """Write one segment's outcome (idempotent: a re-run replaces its faces, never duplicates)."""
    faces = list(faces)
    session.execute(delete(Face).where(Face.job_id == job_id, Face.segment_index == index))
    if faces:
        keys = artifact_keys or {}
        session.add_all(
            Face(
                job_id=job_id,
                segment_index=index,
                frame_index=f.frame_index,
                face_index=f.face_index,
                time_s=f.time_s,
                box=[round(v, 2) for v in f.box],
                detection_confidence=f.confidence,
                probability=f.probability,
                member_probabilities=list(f.member_probabilities) if f.member_probabilities else None,
                thumbnail_key=keys.get((f.frame_index, f.face_index), (None, None))[0],
                heatmap_key=keys.get((f.frame_index, f.face_index), (None, None))[1],
            )
            for f in faces
        )
    session.execute(
        update(Segment)
        .where(Segment.job_id == job_id, Segment.index == index)
        .values(
            status=SegmentStatus.done.value,
            probability=probability,
            frames_sampled=frames_sampled,
            faces=len(faces),
            timings=timings,
            model=model,
            worker=worker,
            error=None,
            updated_at=utcnow(),
        )
    )
    session.flush()
    refresh_progress(session, job_id)


def face_probabilities(session: Session, job_id: str) -> list[tuple[float, ...]]:
    """Every scored face of a job, in segment, frame and face order, as its per-model
    probabilities (an ensemble's members'; a single checkpoint's one)."""
    rows = session.execute(
        select(Face.probability, Face.member_probabilities)
        .where(Face.job_id == job_id)
        .order_by(Face.segment_index, Face.frame_index, Face.face_index)
    ).all()
    return [tuple(float(v) for v in members) if members else (float(p),) for p, members in rows]


def refresh_progress(session: Session, job_id: str) -> int:
    done = session.execute(
        select(func.count()).select_from(Segment).where(Segment.job_id == job_id, Segment.status == "done")
    ).scalar_one()
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(segments_done=done, updated_at=utcnow())
    )
    return int(done)


def bump_segment_attempts(session: Session, job_id: str, index: int) -> None:
    session.execute(
        update(Segment)
        .where(Segment.job_id == job_id, Segment.index == index)
        .values(attempts=Segment.attempts + 1, updated_at=utcnow())
    )


FaceCursor = tuple[int, int, int]


def list_faces(
    session: Session,
    job_id: str,
    *,
    evidence_only: bool = False,
    limit: int = 200,
    after: FaceCursor | None = None,
) -> tuple[list[Face], FaceCursor | None]:
    """A page of a job's scored faces in time order (segment, frame, face). The cursor is the
    position of the last face returned, so pages stay stable while other segments finish."""
    order = (Face.segment_index, Face.frame_index, Face.face_index)
    stmt = select(Face).where(Face.job_id == job_id)
    if evidence_only:
        stmt = stmt.where(Face.thumbnail_key.is_not(None))
    if after is not None:
        stmt = stmt.where(tuple_(*order) > tuple_(*after))
    rows = list(session.execute(stmt.order_by(*order).limit(limit + 1)).scalars())
    page = rows[:limit]
    next_after = (
        (page[-1].segment_index, page[-1].frame_index, page[-1].face_index) if len(rows) > limit else None
    )
    return page, next_after


def stale_jobs(session: Session, older_than: timedelta, now: datetime | None = None) -> list[Job]:
    """Active jobs with no progress for `older_than`: candidates for the reconciler."""
    cutoff = (now or utcnow()) - older_than
    return list(
        session.execute(
            select(Job)
            .where(Job.status.in_(ACTIVE), Job.updated_at < cutoff)
            .order_by(Job.updated_at)
            .limit(500)
        ).scalars()
    )
