"""Guarded state changes on the real databases (SQLite embedded, Postgres in production):
a late or redelivered task can never move a job backwards, and reads page stably."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import update

from shared.db import Job, SessionScope, repo, scope_for
from shared.db.models import utcnow
from shared.errors import NotFound
from shared.storage.keys import segment_key
from shared.types import ScoredFace
from tests.support.seed import add_job


@pytest.fixture(params=["sqlite", "postgres"])
def sessions(request: pytest.FixtureRequest) -> Iterator[SessionScope]:
    settings = request.getfixturevalue(
        "embedded_settings" if request.param == "sqlite" else "service_settings"
    )
    yield scope_for(settings)


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"  # the Postgres database is shared by the session's tests


def new_job(sessions: SessionScope, tenant: str, *, segments: int = 0, status: str = "queued") -> str:
    return add_job(sessions, tenant=tenant, segments=segments, status=status)


def face(frame: int, index: int, p: float) -> ScoredFace:
    return ScoredFace(
        frame, index, frame * 0.25, (1.0, 2.0, 30.0, 40.0), 0.99, p, np.zeros((7, 7), np.float32)
    )


def record(s: Any, job_id: str, index: int, faces: list[ScoredFace], p: float | None) -> None:
    repo.record_segment_result(
        s,
        job_id,
        index,
        probability=p,
        frames_sampled=8,
        faces=faces,
        timings={"detect_s": 0.1},
        model={"name": "m", "version": "1", "sha256": "a" * 64},
        worker="w1",
    )


def test_completing_a_cancelled_job_changes_nothing(sessions: SessionScope, tenant: str) -> None:
    job_id = new_job(sessions, tenant, segments=1)
    with sessions() as s:
        assert repo.mark_processing(s, job_id)
        assert repo.cancel_job(s, job_id)
    with sessions() as s:  # the aggregator, late
        assert not repo.complete_job(s, job_id, {"verdict": "fake"}, segments_done=1)
        assert not repo.fail_job(s, job_id, {"title": "late failure"})
        assert not repo.mark_processing(s, job_id)
    with sessions() as s:
        job = repo.get_job(s, job_id)
        assert job.status == "cancelled" and job.cancel_requested
        assert job.result is None and job.error is None


def test_a_cancel_flag_alone_blocks_completion(sessions: SessionScope, tenant: str) -> None:
    job_id = new_job(sessions, tenant, status="processing")
    with sessions() as s:
        s.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
    with sessions() as s:
        assert not repo.complete_job(s, job_id, {"verdict": "real"}, segments_done=0)
        assert repo.get_job(s, job_id).status == "processing"


def test_a_finished_job_is_never_rewritten(sessions: SessionScope, tenant: str) -> None:
    job_id = new_job(sessions, tenant, status="processing")
    with sessions() as s:
        assert repo.complete_job(s, job_id, {"verdict": "real"}, segments_done=3)
    with sessions() as s:
        assert not repo.cancel_job(s, job_id), "DELETE of a finished job keeps its result"
        assert not repo.complete_job(s, job_id, {"verdict": "fake"}, segments_done=3)
        assert not repo.fail_job(s, job_id, {"title": "x"})
    with sessions() as s:
        job = repo.get_job(s, job_id)
        assert (job.status, job.result, job.segments_done) == ("completed", {"verdict": "real"}, 3)


def test_recording_a_segment_twice_replaces_its_faces(sessions: SessionScope, tenant: str) -> None:
    job_id = new_job(sessions, tenant, segments=2, status="processing")
    with sessions() as s:
        record(s, job_id, 0, [face(0, 0, 0.2), face(1, 0, 0.4)], 0.3)
    with sessions() as s:  # the same task, redelivered after a worker died
        record(s, job_id, 0, [face(0, 0, 0.25), face(1, 0, 0.45)], 0.35)
    with sessions() as s:
        faces, _ = repo.list_faces(s, job_id)
        assert [(f.frame_index, f.probability) for f in faces] == [(0, 0.25), (1, 0.45)]
        seg = repo.get_segment(s, job_id, 0)
        assert seg is not None and (seg.status, seg.probability, seg.faces) == ("done", 0.35, 2)
        job = repo.get_job(s, job_id)
        assert (job.segments_done, job.segments_total) == (1, 2), "progress counts the segment once"


def test_inserting_segments_again_keeps_the_first_rows(sessions: SessionScope, tenant: str) -> None:
    job_id = new_job(sessions, tenant, segments=3)
    with sessions() as s:
        repo.insert_segments(s, job_id, [{"index": 0, "start_s": 9.0, "end_s": 10.0, "object_key": "other"}])
    with sessions() as s:
        segs = repo.segments_of(s, job_id)
        assert [(g.index, g.start_s, g.object_key) for g in segs] == [
            (0, 0.0, segment_key(job_id, 0)),
            (1, 2.0, segment_key(job_id, 1)),
            (2, 4.0, segment_key(job_id, 2)),
        ]
        assert repo.get_job(s, job_id).segments_total == 3


def test_list_jobs_pages_newest_first_with_a_cursor(sessions: SessionScope, tenant: str) -> None:
    ids = [new_job(sessions, tenant) for _ in range(5)]
    new_job(sessions, f"{tenant}-other")
    pages: list[list[str]] = []
    cursor: str | None = None
    with sessions() as s:
        while True:
            jobs, cursor = repo.list_jobs(s, tenant, limit=2, cursor=cursor)
            pages.append([j.id for j in jobs])
            if cursor is None:
                break
    newest_first = ids[::-1]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:5]]


def test_a_full_last_page_has_no_cursor_and_status_filters(sessions: SessionScope, tenant: str) -> None:
    ids = [new_job(sessions, tenant) for _ in range(4)]
    with sessions() as s:
        repo.cancel_job(s, ids[1])
    with sessions() as s:
        first, cursor = repo.list_jobs(s, tenant, limit=2)
        second, last = repo.list_jobs(s, tenant, limit=2, cursor=cursor)
        assert [j.id for j in first + second] == ids[::-1] and last is None, "no empty page after the last"
        cancelled, _ = repo.list_jobs(s, tenant, status="cancelled")
        assert [j.id for j in cancelled] == [ids[1]]


def test_stale_jobs_are_the_active_ones_without_progress(sessions: SessionScope, tenant: str) -> None:
    stuck, fresh, done = (
        new_job(sessions, tenant, status=st) for st in ("processing", "queued", "completed")
    )
    queued_long_ago = new_job(sessions, tenant)
    long_ago = utcnow() - timedelta(minutes=10)
    with sessions() as s:
        s.execute(update(Job).where(Job.id.in_([stuck, done, queued_long_ago])).values(updated_at=long_ago))
    with sessions() as s:
        found = {j.id for j in repo.stale_jobs(s, timedelta(minutes=5))}
        assert {stuck, queued_long_ago} <= found
        assert fresh not in found and done not in found
        # progress (a worker's heartbeat) takes a job off the list
        repo.touch(s, stuck)
    with sessions() as s:
        found = {j.id for j in repo.stale_jobs(s, timedelta(minutes=5))}
        assert stuck not in found and queued_long_ago in found
        later = {j.id for j in repo.stale_jobs(s, timedelta(minutes=5), now=utcnow() + timedelta(minutes=6))}
        assert {stuck, fresh, queued_long_ago} <= later and done not in later


def test_a_job_of_another_tenant_is_not_found(sessions: SessionScope, tenant: str) -> None:
    job_id = new_job(sessions, tenant)
    with sessions() as s:
        assert repo.get_job(s, job_id, tenant).id == job_id
        with pytest.raises(NotFound):
            repo.get_job(s, job_id, f"{tenant}-other")
