"""GET /v1/jobs/{id}/faces and /v1/jobs/{id}/artifacts/{name}: the evidence behind a verdict,
readable only by the tenant that owns the job, and only under the job's artifacts/ prefix.

Against a real API process with API keys required, on Postgres and the S3 gateway, with jobs
written straight into them (tests/support/seed.py); plus one job through the real pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from minio import Minio

from shared.storage.keys import artifact_prefix
from tests.support.seed import SeededJob, create_tenant_key, seed_completed_job
from tests.support.services import S3Gateway, Stack, wait_job

BUCKET = "dfs-auth-tests"  # the keyed_api's bucket


@pytest.fixture(scope="module")
def s3(s3_gateway: S3Gateway) -> Minio:
    return Minio(s3_gateway.endpoint, s3_gateway.access_key, s3_gateway.secret_key, secure=False)


@pytest.fixture(scope="module")
def keys(pg_database_url: str) -> dict[str, str]:
    return {t: create_tenant_key(pg_database_url, t) for t in ("newsroom-a", "newsroom-b")}


@pytest.fixture(scope="module")
def jobs(pg_database_url: str, s3: Minio) -> dict[str, SeededJob]:
    return {t: seed_completed_job(pg_database_url, s3, BUCKET, t) for t in ("newsroom-a", "newsroom-b")}


@pytest.fixture
def api(keyed_api: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=keyed_api.api_url, timeout=30) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_faces_are_listed_in_time_order_with_urls_for_stored_evidence(api, keys, jobs) -> None:
    job = jobs["newsroom-a"]
    r = api.get(f"/v1/jobs/{job.id}/faces", headers=bearer(keys["newsroom-a"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["next_cursor"] is None
    items = body["items"]
    assert [(f["segment_index"], f["frame_index"], f["face_index"]) for f in items] == [
        f[:3] for f in job.faces
    ]
    assert [f["probability"] for f in items] == pytest.approx([f[3] for f in job.faces])
    for face, (seg, frame, idx, _, evidence) in zip(items, job.faces, strict=True):
        assert face["box"] == [10.0, 20.0, 110.0, 140.0]
        assert face["time_s"] == pytest.approx(2.0 * seg + 0.25 * frame)
        if evidence:
            assert (
                face["thumbnail_url"] == f"/v1/jobs/{job.id}/artifacts/faces/{seg:05d}-{frame:03d}-{idx}.jpg"
            )
            assert (
                face["heatmap_url"]
                == f"/v1/jobs/{job.id}/artifacts/faces/{seg:05d}-{frame:03d}-{idx}-heatmap.jpg"
            )
        else:
            assert face["thumbnail_url"] is None and face["heatmap_url"] is None


def test_faces_evidence_filter_and_cursor_pages(api, keys, jobs) -> None:
    job, headers = jobs["newsroom-a"], bearer(keys["newsroom-a"])
    evidence = api.get(f"/v1/jobs/{job.id}/faces", params={"evidence": "true"}, headers=headers).json()[
        "items"
    ]
    assert len(evidence) == sum(1 for f in job.faces if f[4]) and all(f["thumbnail_url"] for f in evidence)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get(f"/v1/jobs/{job.id}/faces", params=params, headers=headers).json()
        assert len(page["items"]) <= 2
        seen += [(f["segment_index"], f["frame_index"], f["face_index"]) for f in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f[:3] for f in job.faces]
    assert pages == 3  # 6 faces, 2 per page

    bad = api.get(f"/v1/jobs/{job.id}/faces", params={"cursor": "1;drop"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


def test_faces_of_another_tenants_job_are_404_and_a_key_is_required(api, keys, jobs) -> None:
    theirs = jobs["newsroom-b"].id
    r = api.get(f"/v1/jobs/{theirs}/faces", headers=bearer(keys["newsroom-a"]))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert api.get(f"/v1/jobs/{theirs}/faces").status_code == 401
    assert (
        api.get("/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/faces", headers=bearer(keys["newsroom-a"])).status_code
        == 404
    )


def test_faces_of_a_job_whose_media_was_deleted_link_to_no_image(
    api, keys, pg_database_url: str, s3: Minio
) -> None:
    job = seed_completed_job(pg_database_url, s3, BUCKET, "newsroom-a", media_deleted=True)
    headers = bearer(keys["newsroom-a"])
    faces = api.get(f"/v1/jobs/{job.id}/faces", headers=headers).json()["items"]
    assert len(faces) == len(job.faces)
    assert all(f["thumbnail_url"] is None and f["heatmap_url"] is None for f in faces)
    assert (
        api.get(f"/v1/jobs/{job.id}/faces", params={"evidence": "true"}, headers=headers).json()["items"]
        == []
    )


def test_artifact_streams_the_stored_bytes_to_the_owner(api, keys, jobs) -> None:
    job = jobs["newsroom-a"]
    face = api.get(f"/v1/jobs/{job.id}/faces?evidence=true", headers=bearer(keys["newsroom-a"])).json()[
        "items"
    ][0]
    for url in (face["thumbnail_url"], face["heatmap_url"]):
        r = api.get(url, headers=bearer(keys["newsroom-a"]))
        assert r.status_code == 200, r.text
        key = artifact_prefix(job.id) + url.split("/artifacts/", 1)[1]
        assert r.content == job.artifacts[key] and r.content.startswith(b"\xff\xd8\xff")
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["content-length"] == str(len(job.artifacts[key]))
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in r.headers["content-security-policy"]


def test_artifacts_of_another_tenant_or_outside_the_prefix_are_404(api, keys, jobs) -> None:
    mine, theirs = jobs["newsroom-a"], jobs["newsroom-b"]
    headers = bearer(keys["newsroom-a"])
    their_name = next(iter(theirs.artifacts)).removeprefix(artifact_prefix(theirs.id))
    assert api.get(f"/v1/jobs/{theirs.id}/artifacts/{their_name}", headers=headers).status_code == 404
    # the owner reaches the same object
    assert (
        api.get(
            f"/v1/jobs/{theirs.id}/artifacts/{their_name}", headers=bearer(keys["newsroom-b"])
        ).status_code
        == 200
    )
    # climbing out of artifacts/{job}/ to the upload or to the other job's artifacts, however encoded
    for name in (
        f"..%2F..%2Fuploads%2F{mine.id}%2Fsource.mp4",
        f"%2E%2E/%2E%2E/uploads/{mine.id}/source.mp4",
        f"..%2F{theirs.id}%2F{their_name.replace('/', '%2F')}",
        ".hidden.jpg",
        "faces//x.jpg",
    ):
        r = api.get(f"/v1/jobs/{mine.id}/artifacts/{name}", headers=headers)
        assert r.status_code == 404, (name, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert api.get(f"/v1/jobs/{mine.id}/artifacts/faces/99999-000-0.jpg", headers=headers).status_code == 404
    assert api.get(f"/v1/jobs/{mine.id}/artifacts/{their_name}").status_code == 401


@pytest.mark.slow
def test_a_real_jobs_faces_link_to_thumbnails_and_heatmaps(
    client: httpx.Client, stack: Stack, face_image: Path
) -> None:
    r = client.post("/v1/jobs", files={"file": (face_image.name, face_image.read_bytes())})
    assert r.status_code == 202, r.text
    done = wait_job(client, r.json()["id"], stack=stack)
    assert done["status"] == "completed", done
    faces = client.get(f"/v1/jobs/{done['id']}/faces").json()["items"]
    assert len(faces) == done["result"]["faces_scored"] >= 1
    face = max(faces, key=lambda f: f["probability"])
    assert face["thumbnail_url"] and face["heatmap_url"], "the most suspicious face has evidence images"
    x1, y1, x2, y2 = face["box"]
    assert 0 <= x1 < x2 <= done["media"]["width"] and 0 <= y1 < y2 <= done["media"]["height"]
    for url in (face["thumbnail_url"], face["heatmap_url"]):
        img = client.get(url)
        assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
        assert img.content.startswith(b"\xff\xd8\xff") and len(img.content) > 1000
