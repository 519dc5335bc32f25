"""The job's `provenance` over HTTP (in-process API on the embedded defaults), in the OpenAPI
schema, and in the stored webhook payload: one document everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from shared.config import Settings
from shared.db import scope_for
from shared.jobs.events import record_finished
from shared.jobs.work import aggregate_job, detect_segment
from shared.webhooks.delivery import deliveries_of
from tests.support.c2pa_signing import make_ca, sign_media


@pytest.fixture
def api(embedded_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(embedded_settings)) as c:
        yield c


def test_the_job_document_and_its_webhook_carry_the_provenance(
    api: TestClient, embedded_settings: Settings, face_image: Path, tmp_path: Path
) -> None:
    ca = make_ca()
    signed = sign_media(face_image, tmp_path / "generated.jpg", ca)
    with signed.open("rb") as fh:
        r = api.post(
            "/v1/jobs",
            files={"file": ("generated.jpg", fh, "application/octet-stream")},
            data={"callback_url": "https://hooks.example/dfs"},
        )
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.json()["provenance"] is None

    sessions = scope_for(embedded_settings)
    detect_segment(job_id, 0, embedded_settings, sessions)  # what the detect worker runs
    assert aggregate_job(job_id, embedded_settings, sessions).finished == [job_id]

    doc = api.get(f"/v1/jobs/{job_id}").json()
    assert doc["status"] == "completed" and doc["result"]["verdict"] in ("fake", "real", "no_face")
    prov = doc["provenance"]
    assert (prov["present"], prov["valid"], prov["trusted"], prov["ai_generated"]) == (
        True,
        True,
        False,
        True,
    )
    assert prov["signer"] == {"issuer": ca.org, "common_name": ca.signer_cn}

    assert record_finished(job_id, embedded_settings, sessions) is not None
    with sessions() as s:
        [delivery] = deliveries_of(s, job_id)
        payload = json.loads(delivery.payload)
    assert payload["data"]["provenance"] == prov


def test_openapi_documents_the_provenance_document(api: TestClient) -> None:
    schemas = api.get("/v1/openapi.json").json()["components"]["schemas"]
    job = schemas["JobPublic"]["properties"]["provenance"]
    assert {"$ref": "#/components/schemas/ProvenancePublic"} in job["anyOf"]
    prov = schemas["ProvenancePublic"]
    assert set(prov["properties"]) == {
        "present",
        "valid",
        "trusted",
        "validation_errors",
        "signer",
        "claim_generator",
        "created_at",
        "actions",
        "ai_generated",
        "ingredients",
    }
    assert "declared by the manifest only" in prov["properties"]["ai_generated"]["description"].lower()
