"""The product's spine, through real processes: API → broker → workers → database/storage → API.

Every test runs twice: against Postgres, Redis and the S3 gateway (production-like), and on
the embedded defaults (SQLite, filesystem broker, local folder) with no server at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.services import Stack, wait_job

pytestmark = pytest.mark.slow


@pytest.fixture(params=["services", "embedded"])
def stack(request: pytest.FixtureRequest) -> Stack:
    return request.getfixturevalue("stack" if request.param == "services" else "embedded_stack")


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=60) as c:
        yield c


def submit(client: httpx.Client, path: Path, **fields: str) -> httpx.Response:
    with open(path, "rb") as fh:
        return client.post(
            "/v1/jobs", files={"file": (path.name, fh, "application/octet-stream")}, data=fields
        )


def test_video_with_a_face_completes_with_per_segment_results(
    client: httpx.Client, stack: Stack, face_clip: Path
) -> None:
    r = submit(client, face_clip, metadata='{"case": "a-1"}')
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "queued"
    assert job["media"]["kind"] == "video" and job["media"]["filename"] == "astronaut.mp4"
    assert job["metadata"] == {"case": "a-1"}

    done = wait_job(client, job["id"], stack=stack)
    assert done["status"] == "completed", done
    result = done["result"]
    assert result["verdict"] in ("fake", "real")
    assert 0.0 <= result["probability"] <= 1.0
    assert result["model"]["version"] == "untrained"
    assert "untrained" in result["warning"]
    assert len(result["model"]["sha256"]) == 64
    segments = result["segments"]
    assert len(segments) == 3
    assert [s["index"] for s in segments] == [0, 1, 2]
    assert segments[0]["start_s"] == 0.0 and segments[-1]["end_s"] == pytest.approx(6.0, abs=0.1)
    assert all(s["frames_sampled"] >= 6 and s["faces"] >= 1 for s in segments)
    assert result["faces_scored"] == sum(s["faces"] for s in segments)
    # the video probability is the mean of the segment probabilities
    mean = sum(s["probability"] for s in segments) / len(segments)
    assert result["probability"] == pytest.approx(mean, abs=1e-5)
    assert done["media"]["duration_s"] == pytest.approx(6.0, abs=0.1)
    assert (done["media"]["width"], done["media"]["height"]) == (854, 480)
    assert done["progress"] == {"segments_total": 3, "segments_done": 3}
    assert "retry-after" not in {k.lower() for k in client.get(f"/v1/jobs/{job['id']}").headers}


def test_video_without_a_face_ends_no_face(client: httpx.Client, stack: Stack, noface_clip: Path) -> None:
    job = submit(client, noface_clip).json()
    done = wait_job(client, job["id"], stack=stack)
    assert done["status"] == "completed", done
    assert done["result"]["verdict"] == "no_face"
    assert done["result"]["probability"] is None
    assert done["result"]["faces_scored"] == 0


def test_image_job_completes_with_one_segment(client: httpx.Client, stack: Stack, face_image: Path) -> None:
    r = submit(client, face_image)
    assert r.status_code == 202
    assert r.json()["media"]["kind"] == "image"
    done = wait_job(client, r.json()["id"], stack=stack)
    assert done["status"] == "completed", done
    assert done["result"]["faces_scored"] >= 1
    assert len(done["result"]["segments"]) == 1
    assert (done["media"]["width"], done["media"]["height"]) == (512, 512) or done["media"]["width"] > 0


def test_corrupt_mp4_ends_failed_with_a_readable_error(
    client: httpx.Client, stack: Stack, corrupt_clip: Path
) -> None:
    r = submit(client, corrupt_clip)
    assert r.status_code == 202, "the header still says MP4: it is accepted, then fails in the pipeline"
    done = wait_job(client, r.json()["id"], stack=stack)
    assert done["status"] == "failed"
    err = done["error"]
    assert err["type"] == "/problems/corrupt-media"
    assert err["status"] == 422 and err["title"]
    assert "ffprobe" in err["detail"] or "decod" in err["detail"]
    assert done["result"] is None


def test_text_file_is_refused_with_415_and_nothing_is_stored(client: httpx.Client, text_file: Path) -> None:
    before = client.get("/v1/jobs", params={"limit": 100}).json()["items"]
    r = submit(client, text_file)
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "/problems/unsupported-media" and body["status"] == 415
    assert body["instance"] == "/v1/jobs"
    after = client.get("/v1/jobs", params={"limit": 100}).json()["items"]
    assert len(after) == len(before)


def test_unknown_job_is_a_404_problem(client: httpx.Client) -> None:
    r = client.get("/v1/jobs/01JXXXXXXXXXXXXXXXXXXXXXXX")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/not-found"


def test_listing_is_newest_first_with_a_working_cursor(
    client: httpx.Client, stack: Stack, face_image: Path
) -> None:
    ids = [submit(client, face_image).json()["id"] for _ in range(3)]
    page1 = client.get("/v1/jobs", params={"limit": 2}).json()
    assert [j["id"] for j in page1["items"]] == ids[::-1][:2]
    page2 = client.get("/v1/jobs", params={"limit": 2, "cursor": page1["next_cursor"]}).json()
    assert page2["items"][0]["id"] == ids[0]
    only_done = client.get("/v1/jobs", params={"status": "completed", "limit": 100}).json()["items"]
    assert all(j["status"] == "completed" for j in only_done)
    bad = client.get("/v1/jobs", params={"status": "sideways"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
    for job_id in ids:
        wait_job(client, job_id, stack=stack)


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}
    assert "dfs_http_requests_total" in client.get("/metrics").text
    assert client.get("/v1/openapi.json").json()["info"]["title"] == "DeepfakeStream"
