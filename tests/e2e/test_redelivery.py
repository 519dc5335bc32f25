"""Every task may run twice (acks_late, a worker dying mid-task): nothing may change.

The work functions are what the Celery tasks run; here they are called directly, twice,
in the orders a redelivery can produce, against Postgres and the S3 gateway.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.access.auth import Principal
from shared.broker.queues import TaskName
from shared.config import get_settings
from shared.db import Face, Job, Segment, session_scope
from shared.ids import new_ulid
from shared.jobs.submit import NewJob, insert_job
from shared.jobs.work import aggregate_job, detect_segment, segment_job
from shared.media.sniff import MP4
from shared.storage import get_store
from shared.storage.keys import source_key


def _counts(job_id: str) -> tuple[int, int]:
    with session_scope() as s:
        segs = s.execute(
            select(func.count()).select_from(Segment).where(Segment.job_id == job_id)
        ).scalar_one()
        faces = s.execute(select(func.count()).select_from(Face).where(Face.job_id == job_id)).scalar_one()
    return int(segs), int(faces)


@pytest.mark.slow
def test_redelivered_tasks_change_nothing(service_settings: object, face_clip: Path) -> None:
    job_id = new_ulid()
    key = source_key(job_id, "mp4")
    get_store().put_file(key, face_clip, MP4.mime)
    new = NewJob(
        job_id=job_id,
        media_type=MP4,
        filename=face_clip.name,
        size=face_clip.stat().st_size,
        key=key,
        callback_url=None,
        metadata={},
    )
    insert_job(new, Principal("local"), get_settings())

    first = segment_job(job_id)
    assert [t for t, _ in first.tasks] == [TaskName.detect] * 3
    again = segment_job(job_id)  # redelivered segment task: no re-split, same pending work
    assert again.tasks == first.tasks
    assert _counts(job_id) == (3, 0)

    assert detect_segment(job_id, 0).tasks == []
    _, faces_after_one = _counts(job_id)
    assert faces_after_one >= 1
    assert detect_segment(job_id, 0).tasks == []  # the same segment again
    assert _counts(job_id) == (3, faces_after_one)

    detect_segment(job_id, 1)
    last = detect_segment(job_id, 2)
    assert last.tasks == [(TaskName.aggregate, (job_id,))]
    assert detect_segment(job_id, 2).tasks == [(TaskName.aggregate, (job_id,))], "still asks for aggregation"
    segs, faces = _counts(job_id)

    assert aggregate_job(job_id).finished == [job_id]
    with session_scope() as s:
        verdict = s.get(Job, job_id).result
    assert aggregate_job(job_id).finished == []  # already completed: nothing rewritten
    assert segment_job(job_id).tasks == []
    assert detect_segment(job_id, 1).tasks == []
    with session_scope() as s:
        job = s.get(Job, job_id)
        assert job.status == "completed" and job.result == verdict
        assert job.segments_done == 3
    assert _counts(job_id) == (segs, faces)
    assert len(list(get_store().list(f"segments/{job_id}/"))) == 3
