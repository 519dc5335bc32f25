"""Presigned uploads: PUT straight to S3 (the JuiceFS gateway), then start the job with JSON."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from shared.client import APIError, Client
from tests.integrator.conftest import TenantKeys
from tests.support.services import Stack

pytestmark = pytest.mark.slow


def presign(client: httpx.Client, **body: object) -> dict:
    r = client.post("/v1/uploads", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def put(url: str, path: Path) -> None:
    with open(path, "rb") as fh:
        r = httpx.put(url, content=fh.read(), timeout=60)
    assert r.status_code == 200, r.text


def test_presigned_upload_becomes_a_job_with_the_uploads_id(
    auth_stack: Stack, tenant_a: TenantKeys, face_image: Path
) -> None:
    with Client(auth_stack.api_url, tenant_a.key) as dfs:
        job = dfs.submit(face_image, metadata={"via": "presigned"}, presigned=True)
        assert job["status"] == "queued" and job["media"]["filename"] == face_image.name
        assert job["media"]["size_bytes"] == face_image.stat().st_size
        done = dfs.wait(job["id"], timeout=120)
    assert done["status"] == "completed", done
    assert done["media"]["kind"] == "image" and done["metadata"] == {"via": "presigned"}


def test_the_upload_is_checked_before_a_job_starts(
    client_a: httpx.Client, client_b: httpx.Client, face_image: Path, text_file: Path
) -> None:
    up = presign(client_a, filename="clip.jpg")
    assert up["method"] == "PUT" and up["max_bytes"] > 0 and up["expires_at"]

    r = client_a.post("/v1/jobs", json={"upload_id": up["upload_id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "upload_id"  # nothing uploaded yet

    put(up["url"], text_file)
    r = client_a.post("/v1/jobs", json={"upload_id": up["upload_id"]})
    assert r.status_code == 415, r.text  # the real type is sniffed from the stored bytes

    put(up["url"], face_image)
    r = client_b.post("/v1/jobs", json={"upload_id": up["upload_id"]})
    assert r.status_code == 422, "another tenant's upload does not exist for this key"

    r = client_a.post("/v1/jobs", json={"upload_id": up["upload_id"], "callback_url": "http://10.0.0.1/hook"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "callback_url"

    r = client_a.post("/v1/jobs", json={"upload_id": up["upload_id"]})
    assert r.status_code == 202, r.text
    assert r.json()["id"] == up["upload_id"]
    r = client_a.post("/v1/jobs", json={"upload_id": up["upload_id"]})
    assert r.status_code == 409, "an upload starts one job"


def test_the_size_cap_is_enforced(client_a: httpx.Client, face_image: Path) -> None:
    up = presign(client_a, size_bytes=1000)
    assert up["max_bytes"] == 1000
    put(up["url"], face_image)
    r = client_a.post("/v1/jobs", json={"upload_id": up["upload_id"]})
    assert r.status_code == 413, r.text
    assert r.json()["type"] == "/problems/media-too-large"


def test_bad_json_bodies_are_422_naming_the_field(client_a: httpx.Client) -> None:
    r = client_a.post("/v1/jobs", json={"upload_id": "x", "metadata": [1, 2]})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"upload_id", "metadata"}  # "x" is no ULID
    r = client_a.post("/v1/uploads", json={"size_bytes": -5})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "size_bytes"
    with pytest.raises(APIError) as err:
        Client._check(client_a.post("/v1/jobs", json={"nope": 1}))
    assert err.value.status == 422
