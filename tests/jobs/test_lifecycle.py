"""DELETE of a job: cancel (with its webhook) or purge, and its media gone either way."""

from __future__ import annotations

from typing import Any

import pytest

from shared.db import SessionScope, repo
from shared.errors import NotFound
from shared.jobs.lifecycle import cancel_and_delete
from shared.storage import ObjectStore
from shared.webhooks.delivery import deliveries_of
from tests.jobs.conftest import RESULT
from tests.support.seed import add_job


def store_media(store: ObjectStore, job_id: str) -> None:
    for key in (
        f"uploads/{job_id}/source.mp4",
        f"segments/{job_id}/00000.mkv",
        f"artifacts/{job_id}/faces/a.jpg",
    ):
        store.put_bytes(key, b"x")


def media(store: ObjectStore, job_id: str) -> list[str]:
    return [o.key for p in ("uploads", "segments", "artifacts") for o in store.list(f"{p}/{job_id}/")]


def test_cancelling_a_running_job_deletes_its_media_and_announces_it(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore
) -> None:
    job_id = add_job(sessions, status="processing", segments=2, callback_url="https://hooks.example/x")
    other = add_job(sessions)
    store_media(store, job_id)
    store_media(store, other)
    job = cancel_and_delete(job_id, "local", store, embedded_settings, sessions=sessions)
    assert job is not None and job.status == "cancelled" and job.media_deleted_at is not None
    assert media(store, job_id) == []
    assert len(media(store, other)) == 3, "another job's media is untouched"
    with sessions() as s:
        assert [d.event_type for d in deliveries_of(s, job_id)] == ["job.cancelled"]
    again = cancel_and_delete(job_id, "local", store, embedded_settings, sessions=sessions)
    assert again is not None and again.status == "cancelled"
    with sessions() as s:
        assert len(deliveries_of(s, job_id)) == 1, "a second DELETE announces nothing new"


def test_deleting_a_finished_job_keeps_its_result(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore
) -> None:
    job_id = add_job(sessions, status="completed", result=RESULT, callback_url="https://hooks.example/x")
    store_media(store, job_id)
    job = cancel_and_delete(job_id, "local", store, embedded_settings, sessions=sessions)
    assert job is not None and (job.status, job.result) == ("completed", RESULT)
    assert media(store, job_id) == []
    with sessions() as s:
        assert deliveries_of(s, job_id) == [], "no job.cancelled for a job that had finished"


def test_purge_removes_the_row_and_sends_nothing(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore
) -> None:
    job_id = add_job(sessions, status="queued", callback_url="https://hooks.example/x")
    store_media(store, job_id)
    assert cancel_and_delete(job_id, "local", store, embedded_settings, purge=True, sessions=sessions) is None
    assert media(store, job_id) == []
    with sessions() as s:
        assert repo.find_job(s, job_id) is None
        assert deliveries_of(s, job_id) == []


def test_another_tenants_job_is_not_found_and_kept(
    embedded_settings: Any, sessions: SessionScope, store: ObjectStore
) -> None:
    job_id = add_job(sessions, tenant="someone-else", status="processing")
    store_media(store, job_id)
    with pytest.raises(NotFound):
        cancel_and_delete(job_id, "local", store, embedded_settings, purge=True, sessions=sessions)
    assert len(media(store, job_id)) == 3
    with sessions() as s:
        assert repo.get_job(s, job_id).status == "processing"
