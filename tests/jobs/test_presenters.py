"""One public job document: `GET /v1/jobs/{id}` and the webhook payload carry the same one,
built by `job_public` from every column the schema names."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from shared.db import SessionScope, WebhookDelivery, repo
from shared.jobs.events import record_finished
from shared.jobs.presenters import job_document
from shared.jobs.schemas import JobPublic
from tests.jobs.conftest import RESULT
from tests.support.seed import add_job


def test_the_webhook_payload_is_the_api_document(embedded_settings: Any, sessions: SessionScope) -> None:
    from services.api.app import create_app

    job_id = add_job(
        sessions,
        status="completed",
        result=RESULT,
        callback_url="https://hooks.example/x",
        meta={"case": "A-17"},
        filename="clip.mp4",
        duration_s=6.0,
        width=854,
        height=480,
        fps=25.0,
        segments_total=1,
        segments_done=1,
    )
    delivery_id = record_finished(job_id, embedded_settings, sessions)
    with sessions() as s:
        delivery = s.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        payload = json.loads(delivery.payload)
    with TestClient(create_app(embedded_settings)) as api:
        answer = api.get(f"/v1/jobs/{job_id}")
    assert answer.status_code == 200
    assert payload["type"] == "job.completed"
    assert payload["data"] == answer.json(), "the webhook and the API must send the same document"
    assert set(answer.json()) == set(JobPublic.model_fields), "every schema field is presented"
    assert answer.json()["media"] == {
        "kind": "video",
        "filename": "clip.mp4",
        "size_bytes": 1000,
        "duration_s": 6.0,
        "width": 854,
        "height": 480,
        "fps": 25.0,
        "deleted_at": None,
    }
    assert answer.json()["metadata"] == {"case": "A-17"}
    assert answer.json()["result"]["segments"] == RESULT["segments"]


def test_the_document_has_utc_timestamps_with_a_z(embedded_settings: Any, sessions: SessionScope) -> None:
    job_id = add_job(sessions)
    with sessions() as s:
        doc = job_document(repo.get_job(s, job_id))
    assert doc["created_at"].endswith("Z") and doc["updated_at"].endswith("Z")
    assert doc["status"] == "queued" and doc["result"] is None and doc["completed_at"] is None
