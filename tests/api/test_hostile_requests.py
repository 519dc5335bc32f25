"""Hostile requests against a real API process (Postgres, the S3 gateway): each answers the
right problem, never `/problems/internal` (issue 11, defects 1, 2, 4-7, 10, 13)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio
from sqlalchemy import create_engine, text

from tests.support.services import S3Gateway, Stack, free_port, wait_http

BUCKET = "dfs-hostile-tests"


@pytest.fixture(scope="module")
def hostile_api(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An API process (no workers: jobs stay queued) on its own bucket and broker database."""
    env = service_env | {
        "DFS_S3_BUCKET": BUCKET,
        "DFS_BROKER_URL": service_env["DFS_BROKER_URL"].rsplit("/", 1)[0] + "/13",
        "DFS_MAX_UPLOAD_BYTES": str(8 * 1024 * 1024),
    }
    s = Stack(env=env, logs=tmp_path_factory.mktemp("hostile-api"))
    s.start_api()
    yield s
    s.stop_all()


@pytest.fixture
def api(hostile_api: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hostile_api.api_url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def s3(s3_gateway: S3Gateway) -> Minio:
    return Minio(s3_gateway.endpoint, s3_gateway.access_key, s3_gateway.secret_key, secure=False)


def assert_problem(r: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"] != "/problems/internal"
    if slug:
        assert body["type"] == f"/problems/{slug}", body
    return body


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# --- 1 and 4: metadata ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        nested(300),  # accepted before: every job list containing it then answered 500
        nested(2000),  # RecursionError at submit before
        '{"a": [' + "0," * 599 + "0]}",  # too many values
        '{"x": NaN}',
        '{"x": Infinity}',
        '{"x": -Infinity}',
        '{"x": 1e999}',
        '{"x": "a\\u0000b"}',
        '{"a\\u0000": 1}',
        '{"x": "\\ud800"}',
        '{"\\udfff": [1]}',
    ],
    ids=[
        "depth300",
        "depth2000",
        "items600",
        "nan",
        "inf",
        "-inf",
        "1e999",
        "nul-value",
        "nul-key",
        "surrogate-value",
        "surrogate-key",
    ],
)
def test_metadata_postgres_cannot_hold_is_422_on_both_paths(
    api: httpx.Client, s3: Minio, face_image: Path, raw: str
) -> None:
    before = _keys(s3)
    r = api.post("/v1/jobs", files={"file": ("a.jpg", face_image.read_bytes())}, data={"metadata": raw})
    body = assert_problem(r, 422, "invalid-request")
    assert body["errors"][0]["field"] == "metadata", body
    assert _keys(s3) == before, "a refused upload leaves nothing in storage"

    up = api.post("/v1/uploads", json={"filename": "a.jpg"}).json()
    assert httpx.put(up["url"], content=face_image.read_bytes()).status_code == 200
    payload = f'{{"upload_id": "{up["upload_id"]}", "metadata": {raw}}}'
    r = api.post("/v1/jobs", content=payload.encode(), headers={"content-type": "application/json"})
    if r.status_code == 400:  # the JSON parser itself refused it (too deep, lone surrogate)
        assert_problem(r, 400, "malformed-request")
    else:
        body = assert_problem(r, 422, "invalid-request")
        assert "metadata" in json.dumps(body["errors"]), body


def test_the_job_list_stays_readable(api: httpx.Client, face_image: Path) -> None:
    """Metadata at the nesting limit is accepted, and listing jobs still works."""
    from shared.jobs.submit import MAX_METADATA_DEPTH

    r = api.post(
        "/v1/jobs",
        files={"file": ("a.jpg", face_image.read_bytes())},
        data={"metadata": nested(MAX_METADATA_DEPTH - 1)},
    )
    assert r.status_code == 202, r.text
    r = api.get("/v1/jobs", params={"limit": 100})
    assert r.status_code == 200, r.text


# --- 5: ids with NUL and other junk -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/v1/jobs/a%00", None),
        ("GET", "/v1/jobs/01J%00XXXXXXXXXXXXXXXXXXXXX", None),
        ("DELETE", "/v1/jobs/a%00", None),
        ("DELETE", "/v1/jobs/a%00?purge=true", None),
        ("GET", "/v1/jobs/a%00/deliveries", None),
        ("POST", "/v1/jobs/a%00/deliveries/redeliver", None),
        ("GET", "/v1/jobs/a%00/faces", None),
        ("GET", "/v1/jobs/a%00/artifacts/faces/00000-000-0.jpg", None),
        ("GET", "/v1/jobs", {"cursor": "\x00"}),
        ("GET", "/v1/jobs", {"cursor": "01J\x00"}),
        ("GET", "/v1/jobs/%27%20OR%201%3D1--", None),
        # the same rules for live streams (found by schemathesis once both landed)
        ("GET", "/v1/streams/a%00", None),
        ("DELETE", "/v1/streams/a%00", None),
        ("GET", "/v1/streams/a%00/segments", None),
        ("GET", "/v1/streams/a%00/deliveries", None),
        ("GET", "/v1/streams/a%00/events", None),
        ("GET", "/v1/streams", {"cursor": "\U0003fe7bA\u00c2\u00c1oT\x00"}),
        ("GET", "/v1/streams", {"cursor": "\x00"}),
    ],
)
def test_malformed_ids_are_422_before_any_query(
    api: httpx.Client, method: str, path: str, params: dict[str, str] | None
) -> None:
    r = api.request(method, path, params=params)
    assert_problem(r, 422, "invalid-request")


@pytest.mark.parametrize(
    "body",
    [
        {"upload_id": "a\x00"},
        {"upload_id": "\x00" * 26},
        {"upload_id": "x"},
    ],
)
def test_malformed_upload_ids_are_422(api: httpx.Client, body: dict[str, str]) -> None:
    body = assert_problem(api.post("/v1/jobs", json=body), 422, "invalid-request")
    assert body["errors"][0]["field"] == "upload_id"


def test_redeliver_names_a_malformed_delivery_id(api: httpx.Client) -> None:
    r = api.post("/v1/jobs/01JXXXXXXXXXXXXXXXXXXXXXXX/deliveries/redeliver", json={"delivery_id": "a\x00"})
    assert_problem(r, 422, "invalid-request")


def test_control_characters_are_escaped_in_text_logs() -> None:
    import logging

    from shared.logging import TextFormatter

    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "path /v1/jobs/a\x00b\x1b[31m\r", None, None
    )
    line = TextFormatter("%(message)s").format(record)
    assert "\x00" not in line and "\x1b" not in line and "\r" not in line
    assert "\\x00" in line and "\\x1b" in line


# --- 6: malformed multipart ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("boundary", "body"),
    [
        ("XX", b"--XX\r\nNone--XX--\r\n"),
        ("XX", b'--XX\r\nContent-Disposition: form-data; name="file"\r\n\x00\r\n\r\nabc\r\n--XX--\r\n'),
        ("XX", b"garbage without any boundary"),
        ("XX", b"--XX\r\n" + b"A" * 70000),
        ("X" * 80, b"--" + b"X" * 80 + b"\r\n\r\n\r\n"),
    ],
    ids=["none-part", "nul-header", "no-boundary", "endless-header", "long-boundary"],
)
def test_malformed_multipart_is_400_or_422(api: httpx.Client, boundary: str, body: bytes) -> None:
    r = api.post(
        "/v1/jobs", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert r.status_code in (400, 422), r.text
    assert_problem(r, r.status_code)


def test_a_10000_character_filename_is_a_400(api: httpx.Client, s3: Minio, face_image: Path) -> None:
    before = _keys(s3)
    r = api.post("/v1/jobs", files={"file": ("n" * 10_000 + ".jpg", face_image.read_bytes())})
    assert_problem(r, 400, "malformed-request")
    assert _keys(s3) == before


def test_a_body_that_is_not_json_is_a_400_problem(api: httpx.Client) -> None:
    for path in (
        "/v1/uploads",
        "/v1/jobs/01JXXXXXXXXXXXXXXXXXXXXXXX/deliveries/redeliver",
        "/v1/jobs",
        "/v1/streams",
    ):
        r = api.post(path, content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code in (400, 422), (path, r.text)
        assert_problem(r, r.status_code)


# --- 7: after a 500 the connection closes cleanly ----------------------------------------


def test_an_internal_error_says_connection_close(tmp_path: Path, service_env: dict[str, str]) -> None:
    """A route that raises (as a bug would): the 500 carries `Connection: close`, so a keep-alive
    client opens a new connection instead of meeting a reset."""
    import uvicorn

    from shared.config import Settings

    settings = Settings(data_dir=tmp_path)
    from services.api.app import create_app

    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 30)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/boom")
        resp = conn.getresponse()
        assert json.loads(resp.read())["type"] == "/problems/internal"
        assert resp.status == 500
        assert resp.getheader("connection", "").lower() == "close"
        conn.close()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:  # a pooled client recovers
            assert c.get("/boom").status_code == 500
            assert c.get("/healthz").status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- 10: one filename sanitiser -----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("<img src=x onerror=alert(1)>.jpg", "<img src=x onerror=alert(1)>.jpg"),
        ("..", None),
    ],
)
def test_presigned_and_multipart_filenames_get_the_same_sanitiser(
    api: httpx.Client, face_image: Path, given: str, kept: str | None
) -> None:
    up = api.post("/v1/uploads", json={"filename": given})
    assert up.status_code == 201, up.text
    assert httpx.put(up.json()["url"], content=face_image.read_bytes()).status_code == 200
    presigned = api.post("/v1/jobs", json={"upload_id": up.json()["upload_id"]})
    assert presigned.status_code == 202, presigned.text
    multipart = api.post("/v1/jobs", files={"file": (given, face_image.read_bytes())})
    assert multipart.status_code == 202, multipart.text
    assert presigned.json()["media"]["filename"] == multipart.json()["media"]["filename"] == kept


def test_a_presigned_filename_loses_control_characters(api: httpx.Client, face_image: Path) -> None:
    up = api.post("/v1/uploads", json={"filename": "a\x00b\x1b.jpg"})
    assert up.status_code == 201, up.text
    assert httpx.put(up.json()["url"], content=face_image.read_bytes()).status_code == 200
    job = api.post("/v1/jobs", json={"upload_id": up.json()["upload_id"]})
    assert job.status_code == 202, job.text
    assert job.json()["media"]["filename"] == "ab.jpg"


# --- 2: a presigned upload cannot be replaced once it is a job ----------------------------


def test_a_second_put_to_the_presigned_url_does_not_change_the_jobs_media(
    api: httpx.Client, s3: Minio, service_env: dict[str, str], face_image: Path, media_dir: Path
) -> None:
    from shared.media.samples import write_image

    original = face_image.read_bytes()
    up = api.post("/v1/uploads", json={"filename": "a.jpg"}).json()
    assert httpx.put(up["url"], content=original).status_code == 200
    r = api.post("/v1/jobs", json={"upload_id": up["upload_id"]})
    assert r.status_code == 202, r.text
    job = r.json()

    other = write_image(media_dir / "hostile-replacement.png", "coffee").read_bytes()
    assert other != original
    put = httpx.put(up["url"], content=other)  # the URL is still valid: S3 accepts the PUT
    assert put.status_code == 200

    key = _source_key(service_env["DFS_DATABASE_URL"], job["id"])
    stored = s3.get_object(BUCKET, key).read()
    assert stored == original, "the job's media is the file checked at creation"
    assert job["media"]["size_bytes"] == len(original)


# --- 13: OpenAPI says what the API answers -----------------------------------------------


def test_openapi_documents_the_problems_these_routes_answer(api: httpx.Client) -> None:
    spec = api.get("/v1/openapi.json").json()
    paths = spec["paths"]
    assert "400" in paths["/v1/uploads"]["post"]["responses"]
    assert "400" in paths["/v1/jobs"]["post"]["responses"]
    assert "400" in paths["/v1/jobs/{job_id}/deliveries/redeliver"]["post"]["responses"]
    assert "400" in paths["/v1/streams"]["post"]["responses"]
    for path in ("/v1/streams/{stream_id}", "/v1/streams/{stream_id}/deliveries"):
        for op in paths[path].values():
            assert "422" in op["responses"], path  # a malformed stream id
    assert "404" in paths["/problems/{slug}"]["get"]["responses"]
    delete = paths["/v1/jobs/{job_id}"]["delete"]["responses"]
    assert "application/problem+json" in delete["422"]["content"]
    size = spec["components"]["schemas"]["UploadCreate"]["properties"]["size_bytes"]
    limit = api.get("/v1/config").json()["max_upload_bytes"]
    schema = next(s for s in size.get("anyOf", [size]) if s.get("type") == "integer")
    assert schema.get("maximum") == limit


def test_405_lists_every_allowed_method(api: httpx.Client) -> None:
    r = api.put("/v1/jobs/01JXXXXXXXXXXXXXXXXXXXXXXX")
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "DELETE"}
    r = api.patch("/v1/jobs")
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert r.headers["content-type"].startswith("application/problem+json")


# --- helpers ------------------------------------------------------------------------------


def _keys(s3: Minio) -> list[str]:
    if not s3.bucket_exists(BUCKET):
        return []
    return sorted(o.object_name for o in s3.list_objects(BUCKET, recursive=True))


def _source_key(database_url: str, job_id: str) -> str:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(text("select source_key from jobs where id = :i"), {"i": job_id}).scalar_one()
            )
    finally:
        engine.dispose()


# --- 9: a dependency outage says what is down, not where it lives -------------------------


def test_an_s3_outage_names_neither_endpoint_nor_bucket(
    service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, face_image: Path
) -> None:
    dead_port = free_port()  # nothing listens there
    env = service_env | {"DFS_S3_ENDPOINT": f"127.0.0.1:{dead_port}", "DFS_S3_BUCKET": "internal-bucket-name"}
    s = Stack(env=env, logs=tmp_path_factory.mktemp("s3-down-api"))
    s.start_api()
    try:
        with httpx.Client(base_url=s.api_url, timeout=120) as c:
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["storage"] == "unavailable", ready.text
            submit = c.post("/v1/jobs", files={"file": ("a.jpg", face_image.read_bytes())})
            assert_problem(submit, 503, "storage-unavailable")
            for text in (ready.text, submit.text):
                for leak in (str(dead_port), "127.0.0.1", "internal-bucket-name", "uploads/"):
                    assert leak not in text, text
    finally:
        s.stop_all()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/uploads", {"size_bytes": True}),
        ("/v1/uploads", {"size_bytes": "100"}),
        ("/v1/uploads", {"filename": 7}),
        ("/v1/jobs/01JXXXXXXXXXXXXXXXXXXXXXXX/deliveries/redeliver", {"delivery_id": 12}),
    ],
)
def test_json_bodies_are_not_coerced(api: httpx.Client, path: str, body: dict[str, Any]) -> None:
    """Found by schemathesis: `{"size_bytes": true}` made an upload with a cap of 1 byte."""
    assert_problem(api.post(path, json=body), 422, "invalid-request")
