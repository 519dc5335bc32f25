"""Idempotency-Key on POST /v1/jobs: retries return the original job, never a second one."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg2
import pytest

from tests.integrator.conftest import TenantKeys
from tests.support.services import Stack, wait_job

pytestmark = pytest.mark.slow


def post(client: httpx.Client, path: Path, key: str, **fields: str) -> httpx.Response:
    with open(path, "rb") as fh:
        return client.post(
            "/v1/jobs",
            files={"file": (path.name, fh, "application/octet-stream")},
            data=fields,
            headers={"Idempotency-Key": key},
        )


def sql_count(stack: Stack, query: str, *args: str) -> int:
    dsn = stack.env["DFS_DATABASE_URL"].replace("postgresql+psycopg2", "postgresql")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        return int(cur.fetchone()[0])


def jobs_with_key(stack: Stack, key: str) -> int:
    return sql_count(stack, "SELECT count(*) FROM jobs WHERE idempotency_key = %s", key)


def test_a_retry_with_the_same_key_and_payload_returns_the_original_job(
    client_a: httpx.Client, auth_stack: Stack, face_image: Path
) -> None:
    key = str(uuid.uuid4())
    first = post(client_a, face_image, key, metadata='{"n": 1}')
    assert first.status_code == 202, first.text
    again = post(client_a, face_image, key, metadata='{"n": 1}')
    assert again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == f"/v1/jobs/{first.json()['id']}"
    assert jobs_with_key(auth_stack, key) == 1
    wait_job(client_a, first.json()["id"], stack=auth_stack)
    later = post(client_a, face_image, key, metadata='{"n": 1}')
    assert later.json()["id"] == first.json()["id"] and later.json()["status"] == "completed"


def test_the_same_key_with_a_different_payload_is_422(
    client_a: httpx.Client, face_image: Path, face_clip: Path
) -> None:
    key = str(uuid.uuid4())
    assert post(client_a, face_image, key, metadata='{"n": 1}').status_code == 202
    for other in (
        post(client_a, face_image, key, metadata='{"n": 2}'),
        post(client_a, face_clip, key, metadata='{"n": 1}'),
    ):
        assert other.status_code == 422, other.text
        problem = other.json()
        assert problem["errors"][0]["field"] == "Idempotency-Key"
        assert "different" in problem["detail"]


def test_keys_are_per_tenant(client_a: httpx.Client, client_b: httpx.Client, face_image: Path) -> None:
    key = str(uuid.uuid4())
    a = post(client_a, face_image, key)
    b = post(client_b, face_image, key)
    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"]


def test_a_duplicate_while_the_first_is_in_flight_is_409(
    client_a: httpx.Client, tenant_a: TenantKeys, auth_stack: Stack, face_image: Path
) -> None:
    key = str(uuid.uuid4())
    boundary = "dfs-test-boundary"
    data = face_image.read_bytes()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + data[: len(data) // 2]
    tail = data[len(data) // 2 :] + f"\r\n--{boundary}--\r\n".encode()
    release = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield head
        release.wait(30)
        yield tail

    def first_request() -> httpx.Response:
        with httpx.Client(base_url=auth_stack.api_url, timeout=60) as c:
            return c.post(
                "/v1/jobs",
                content=slow_body(),
                headers={
                    "authorization": f"Bearer {tenant_a.key}",
                    "content-type": f"multipart/form-data; boundary={boundary}",
                    "Idempotency-Key": key,
                },
            )

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(first_request)
        try:
            claimed = "SELECT count(*) FROM idempotency_keys WHERE key = %s AND state = 'in_flight'"
            deadline = time.time() + 30
            while sql_count(auth_stack, claimed, key) == 0 and time.time() < deadline:
                time.sleep(0.05)  # the first request's headers have not reached the API yet
            dup = post(client_a, face_image, key)
            assert dup.status_code == 409, dup.text
            assert dup.json()["type"] == "/problems/conflict"
        finally:
            release.set()
        first = pending.result(timeout=60)
    assert first.status_code == 202, first.text
    assert jobs_with_key(auth_stack, key) == 1


def test_concurrent_duplicates_create_one_job(
    client_a: httpx.Client, auth_stack: Stack, face_image: Path
) -> None:
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(lambda _: post(client_a, face_image, key, metadata='{"dup": true}'), range(6))
        )
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {202, 409}, [r.text for r in answers]
    ids = {r.json()["id"] for r in answers if r.status_code == 202}
    assert len(ids) == 1
    assert jobs_with_key(auth_stack, key) == 1
    # a retry after the dust settled gets that one job
    assert post(client_a, face_image, key, metadata='{"dup": true}').json()["id"] in ids


def test_a_malformed_key_is_422(client_a: httpx.Client, face_image: Path) -> None:
    r = post(client_a, face_image, "x" * 300)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
