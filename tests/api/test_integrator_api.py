"""The integrator API in-process on the embedded defaults (SQLite, local folder, no workers)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from shared.config import Settings


@pytest.fixture
def api(embedded_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(embedded_settings)) as c:
        yield c


def submit(api: TestClient, path: Path, **fields: str):  # type: ignore[no-untyped-def]
    with open(path, "rb") as fh:
        return api.post("/v1/jobs", files={"file": (path.name, fh, "application/octet-stream")}, data=fields)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.0.0.1/hook"])
def test_internal_callback_urls_are_refused_by_default(api: TestClient, face_image: Path, url: str) -> None:
    r = submit(api, face_image, callback_url=url)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == "/problems/invalid-request"
    assert problem["errors"][0]["field"] == "callback_url"
    assert api.get("/v1/jobs").json()["items"] == [], "nothing was kept"


def test_presigned_uploads_need_s3(api: TestClient) -> None:
    r = api.post("/v1/uploads", json={"filename": "big.mp4"})
    assert r.status_code == 501
    assert r.json()["type"] == "/problems/feature-unavailable"
    assert "DFS_S3_ENDPOINT" in r.json()["detail"]


def test_delete_cancels_a_queued_job_and_removes_its_media(
    api: TestClient, embedded_settings: Settings, face_image: Path
) -> None:
    job = submit(api, face_image).json()
    folder = embedded_settings.objects_dir / "uploads" / job["id"]
    assert any(folder.iterdir())
    r = api.delete(f"/v1/jobs/{job['id']}")
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled" and r.json()["completed_at"]
    assert not folder.exists() or not any(folder.iterdir())
    assert api.get(f"/v1/jobs/{job['id']}/deliveries").json() == {"items": []}, "no callback, no delivery"
    assert api.post(f"/v1/jobs/{job['id']}/deliveries/redeliver").status_code == 409
    assert api.delete(f"/v1/jobs/{job['id']}", params={"purge": True}).status_code == 204
    assert api.get(f"/v1/jobs/{job['id']}").status_code == 404
    assert api.delete(f"/v1/jobs/{job['id']}").status_code == 404


def test_auth_can_be_switched_on_explicitly(
    embedded_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = embedded_settings.model_copy(update={"auth_enabled": True})
    with TestClient(create_app(settings)) as c:
        r = c.get("/v1/jobs")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        r = c.get("/v1/jobs", headers={"authorization": "Basic Zm9vOmJhcg=="})
        assert r.status_code == 401 and "Bearer" in r.json()["detail"]


def test_auth_default_follows_the_database_and_is_never_silently_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pg = "postgresql+psycopg2://u@db/dfs"
    assert Settings(database_url=pg).auth_required is True
    assert Settings(database_url=pg, auth_enabled=False).auth_required is False
    assert Settings(database_url="sqlite:///x.db").auth_required is False
    assert Settings(database_url="sqlite:///x.db", auth_enabled=True).auth_required is True
    from services.api.app import _log_auth_mode

    with caplog.at_level(logging.INFO, logger="services.api.app"):
        _log_auth_mode(Settings(database_url=pg, auth_enabled=False))
    assert any(r.levelno == logging.WARNING and "AUTH IS OFF" in r.getMessage() for r in caplog.records)


def test_openapi_documents_every_new_route_with_its_problems(api: TestClient) -> None:
    spec = api.get("/v1/openapi.json").json()
    paths = spec["paths"]
    expected = {
        ("/v1/jobs", "post"): {"202", "409", "413", "415", "422", "429", "401"},
        ("/v1/jobs/{job_id}", "delete"): {"200", "204", "404", "401"},
        ("/v1/uploads", "post"): {"201", "413", "422", "501", "401"},
        ("/v1/jobs/{job_id}/deliveries", "get"): {"200", "404", "401"},
        ("/v1/jobs/{job_id}/deliveries/redeliver", "post"): {"202", "404", "409", "401"},
    }
    for (path, method), codes in expected.items():
        responses = paths[path][method]["responses"]
        assert codes <= set(responses), (path, method, set(responses))
        for code in codes - {"200", "201", "202", "204"}:
            assert "application/problem+json" in responses[code]["content"], (path, method, code)
    assert set(paths["/v1/jobs"]["post"]["requestBody"]["content"]) == {
        "multipart/form-data",
        "application/json",
    }
    assert any(p["name"] == "Idempotency-Key" for p in paths["/v1/jobs"]["post"]["parameters"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"DeliveryPublic", "AttemptPublic", "UploadPublic"} <= set(spec["components"]["schemas"])
