"""POST /v1/jobs edge cases against a real API process on Postgres and the S3 gateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from minio import Minio

from tests.support.services import S3Gateway, Stack

LIMIT = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def small_api(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An API process with a 2 MiB upload limit (no workers: jobs just stay queued)."""
    env = service_env | {
        "DFS_MAX_UPLOAD_BYTES": str(LIMIT),
        "DFS_S3_BUCKET": "dfs-upload-tests",
        "DFS_BROKER_URL": service_env["DFS_BROKER_URL"].rsplit("/", 1)[0] + "/14",
    }
    s = Stack(env=env, logs=tmp_path_factory.mktemp("small-api"))
    s.start_api()
    yield s
    s.stop_all()


@pytest.fixture
def api(small_api: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_api.api_url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def bucket(s3_gateway: S3Gateway) -> Iterator[callable]:
    client = Minio(s3_gateway.endpoint, s3_gateway.access_key, s3_gateway.secret_key, secure=False)

    def keys() -> list[str]:
        if not client.bucket_exists("dfs-upload-tests"):
            return []
        return sorted(o.object_name for o in client.list_objects("dfs-upload-tests", recursive=True))

    yield keys


def test_accepted_upload_is_stored_whole_before_202(api: httpx.Client, bucket, face_image: Path) -> None:
    r = api.post("/v1/jobs", files={"file": ("x.jpg", face_image.read_bytes(), "text/plain")})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["media"]["size_bytes"] == face_image.stat().st_size
    assert f"uploads/{job['id']}/source.jpg" in bucket()


def test_upload_over_the_limit_is_413_and_leaves_nothing(api: httpx.Client, bucket) -> None:
    before = bucket()
    big = b"\xff\xd8\xff\xe0" + b"\0" * (LIMIT + 10)
    r = api.post("/v1/jobs", files={"file": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413
    assert r.json()["type"] == "/problems/media-too-large"
    assert bucket() == before


def test_invalid_metadata_is_422_naming_the_field_and_the_upload_is_removed(
    api: httpx.Client, bucket, face_image: Path
) -> None:
    before = bucket()
    for bad, message in (
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("x" * 5000, "exceeds"),
    ):
        r = api.post("/v1/jobs", files={"file": ("a.jpg", face_image.read_bytes())}, data={"metadata": bad})
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["errors"][0]["field"] == "metadata" and message in body["detail"]
    assert bucket() == before


def test_callback_url_must_be_http(api: httpx.Client, face_image: Path) -> None:
    r = api.post(
        "/v1/jobs", files={"file": ("a.jpg", face_image.read_bytes())}, data={"callback_url": "ftp://x/y"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "callback_url"


def test_form_without_a_file_part(api: httpx.Client) -> None:
    r = api.post("/v1/jobs", data={"metadata": "{}"}, files={"other": ("a.txt", b"hi")})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "file"


def test_empty_file(api: httpx.Client) -> None:
    r = api.post("/v1/jobs", files={"file": ("empty.mp4", b"")})
    assert r.status_code == 422
    assert "empty" in r.json()["detail"]


def test_not_multipart_is_415(api: httpx.Client) -> None:
    r = api.post("/v1/jobs", content=b"\x00\x00\x00\x20ftypisom", headers={"content-type": "video/mp4"})
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("application/problem+json")


def test_problem_types_are_documented(api: httpx.Client) -> None:
    r = api.get("/problems/unsupported-media")
    assert r.status_code == 200 and "content" in r.json()["description"]
    assert api.get("/problems/nope").status_code == 404
