"""The job domain on the embedded defaults: SQLite, the local object folder, the filesystem
broker, all real, in a fresh data folder per test."""

from __future__ import annotations

from typing import Any

import pytest

from shared.db import Job, SessionScope, repo, scope_for
from shared.ids import new_ulid
from shared.pipeline import media_result
from shared.storage import ObjectStore, get_store
from shared.types import SegmentResult

MODEL = {"name": "m", "version": "1", "sha256": "a" * 64}
#: The result document of a completed one-segment job, as the aggregator writes it.
RESULT = media_result([SegmentResult(0, 0.0, 2.0, 4, probability=0.2, faces_scored=1)], MODEL)


@pytest.fixture
def sessions(embedded_settings: Any) -> SessionScope:
    return scope_for(embedded_settings)


@pytest.fixture
def store(embedded_settings: Any) -> ObjectStore:
    return get_store(embedded_settings)


def add_job(
    sessions: SessionScope, *, tenant: str = "local", status: str = "queued", segments: int = 0, **values: Any
) -> str:
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
                        "object_key": f"segments/{job_id}/{i:05d}.mkv",
                    }
                    for i in range(segments)
                ],
            )
    return job_id
