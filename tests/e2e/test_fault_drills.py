"""Fault drills, bounded in time, against a stack of its own (API, segment/aggregate/maintenance
worker, webhooks worker, detector, beat; its own Postgres database, Redis server and S3 gateway,
so the faults touch nothing else): kill -9 of a detector and of a webhooks worker mid-work, the
object store down for 30 s, every database backend terminated. Each job must end `completed`
with exactly its segments and one delivery per event, and every webhook must arrive (at least
once, same webhook-id). A broker flush is drilled in tests/integrator/test_lifecycle.py.

The recovery times are printed (`-s`); docs/reliability.md quotes them.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support.receiver import Receiver, start_receiver
from tests.support.services import (
    RedisServer,
    S3Gateway,
    Stack,
    recreate_database,
    start_redis_server,
    start_s3_gateway,
    wait_job,
)
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow

READ_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 1.0
SWEEP_S = 2.0


@pytest.fixture(scope="module")
def drill_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Gateway]:
    gw = start_s3_gateway(tmp_path_factory.mktemp("drill-s3"))
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def drill_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis_server(tmp_path_factory.mktemp("drill-redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def drill_db() -> str:
    from shared.db.engine import upgrade_database

    url = recreate_database(os.environ.get("DFS_TEST_DATABASE", "dfs_test") + "_drills")
    upgrade_database(url)
    return url


@pytest.fixture(scope="module")
def drills(
    drill_gateway: S3Gateway,
    drill_redis: RedisServer,
    drill_db: str,
    untrained_checkpoint: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    from tests.conftest import _clean_env

    env = _clean_env() | {
        "DFS_DATABASE_URL": drill_db,
        "DFS_BROKER_URL": drill_redis.url,
        "DFS_S3_ENDPOINT": drill_gateway.endpoint,
        "DFS_S3_ACCESS_KEY": drill_gateway.access_key,
        "DFS_S3_SECRET_KEY": drill_gateway.secret_key,
        "DFS_S3_BUCKET": "dfs-drills",
        "DFS_CHECKPOINT": str(untrained_checkpoint),
        "DFS_DATA_DIR": str(tmp_path_factory.mktemp("drill-data")),
        "DFS_AUTH_ENABLED": "false",
        "DFS_POLL_AFTER_S": "1",
        "DFS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DFS_WEBHOOK_CONNECT_TIMEOUT_S": str(CONNECT_TIMEOUT_S),
        "DFS_WEBHOOK_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
        "DFS_WEBHOOK_BACKOFF_BASE_S": "0.5",
        "DFS_WEBHOOK_BACKOFF_MAX_S": "3",
        "DFS_RECONCILE_INTERVAL_S": str(SWEEP_S),
        "DFS_RECONCILE_STALE_AFTER_S": "10",
    }
    s = Stack(env=env, logs=tmp_path_factory.mktemp("drill-logs"))
    try:
        s.start_worker("cpu", "segment,aggregate,maintenance")
        s.start_worker("hooks", "webhooks", concurrency=2, pool="threads")
        s.start_worker("detect", "detect")
        s.start_beat()
        s.start_api()
        yield s
    finally:
        s.stop_all()


@pytest.fixture(scope="module")
def rx() -> Iterator[Receiver]:
    r = start_receiver()
    r.hang_s = 3.0  # "hang": answer 200 after 3 s, within the 5 s read timeout
    yield r
    r.stop()


@pytest.fixture
def api(drills: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=drills.api_url, timeout=60) as c:
        yield c


def submit(api: httpx.Client, media: Path, callback_url: str) -> dict[str, Any]:
    r = api.post(
        "/v1/jobs", files={"file": (media.name, media.read_bytes())}, data={"callback_url": callback_url}
    )
    assert r.status_code == 202, r.text
    return r.json()


def kill9(stack: Stack, name: str) -> None:
    proc = stack.procs.pop(name)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def check_job(drill_db: str, api: httpx.Client, rx: Receiver, job_id: str, path: str, stack: Stack) -> dict:
    """Completed, exactly its segments, one delivery of job.completed, and it arrived."""
    done = wait_job(api, job_id, timeout=300, stack=stack)
    assert done["status"] == "completed", done
    total = done["progress"]["segments_total"]
    assert done["progress"]["segments_done"] == total
    # the event is recorded and sent just after the job's row says completed
    wait_until(lambda: rx.received(path), 60, f"the webhook of {job_id}")
    engine = create_engine(drill_db)
    try:
        with engine.connect() as conn:
            q = lambda sql: conn.execute(text(sql), {"j": job_id}).scalar_one()  # noqa: E731
            assert q("select count(*) from segments where job_id = :j") == total
            assert q("select count(*) from segments where job_id = :j and status <> 'done'") == 0
            assert q("select count(*) from webhook_deliveries where job_id = :j") == 1
    finally:
        engine.dispose()
    got = rx.received(path)
    assert {r.headers["webhook-id"] for r in got} == {got[0].headers["webhook-id"]}, "one event, one id"
    wait_until(lambda: _delivery_status(drill_db, job_id) == "succeeded", 60, "the delivery to be recorded")
    return done


def _delivery_status(drill_db: str, job_id: str) -> str:
    engine = create_engine(drill_db)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    text("select status from webhook_deliveries where job_id = :j"), {"j": job_id}
                ).scalar()
            )
    finally:
        engine.dispose()


def test_kill_9_of_a_detector_mid_job(
    drills: Stack, api: httpx.Client, rx: Receiver, drill_db: str, face_clip: Path
) -> None:
    job = submit(api, face_clip, rx.url("/hook/kill-detector", "200"))
    wait_until(lambda: _detecting(drill_db, job["id"]), 120, "a detect task running")
    start = time.monotonic()
    kill9(drills, "detect")
    drills.start_worker("detect", "detect")
    check_job(drill_db, api, rx, job["id"], "/hook/kill-detector", drills)
    print(f"\nkill -9 detector: job completed {time.monotonic() - start:.0f} s after the kill")


def test_kill_9_of_a_webhooks_worker_mid_delivery(
    drills: Stack, api: httpx.Client, rx: Receiver, drill_db: str, face_image: Path
) -> None:
    path = "/hook/kill-hooks"
    job = submit(api, face_image, rx.url(path, "hang", "200"))
    wait_until(lambda: rx.received(path), 180, "the first attempt to reach the receiver")
    kill9(drills, "hooks")  # while the receiver holds the request open
    killed_at = time.time()
    drills.start_worker("hooks", "webhooks", concurrency=2, pool="threads")
    second = rx.wait_for(path, 2, timeout=120)[1]
    assert second.headers["webhook-id"] == rx.received(path)[0].headers["webhook-id"]
    resent_after = second.at - killed_at
    bound = CONNECT_TIMEOUT_S + READ_TIMEOUT_S + 10 + 2 * SWEEP_S + 15  # deadline, margin, sweeps, start
    assert resent_after < bound, f"re-sent {resent_after:.0f} s after the kill"
    check_job(drill_db, api, rx, job["id"], path, drills)
    print(f"\nkill -9 webhooks worker: re-sent with the same webhook-id {resent_after:.0f} s after the kill")


def test_object_store_down_for_30_s(
    drills: Stack, drill_gateway: S3Gateway, api: httpx.Client, rx: Receiver, drill_db: str, face_clip: Path
) -> None:
    job = submit(api, face_clip, rx.url("/hook/s3-down", "200"))
    wait_until(lambda: api.get(f"/v1/jobs/{job['id']}").json()["status"] == "processing", 120, "processing")
    drill_gateway.stop()
    try:
        refused = api.post("/v1/jobs", files={"file": ("x.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 100)})
        assert refused.status_code == 503 and refused.json()["type"] == "/problems/storage-unavailable"
        ready = api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["storage"] == "unavailable"
        time.sleep(30)
    finally:
        drill_gateway.restart()
    back = time.monotonic()
    check_job(drill_db, api, rx, job["id"], "/hook/s3-down", drills)
    print(f"\nS3 down 30 s: job completed {time.monotonic() - back:.0f} s after the store came back")


def test_database_backends_terminated_mid_job(
    drills: Stack, api: httpx.Client, rx: Receiver, drill_db: str, face_clip: Path
) -> None:
    job = submit(api, face_clip, rx.url("/hook/pg-terminate", "200"))
    wait_until(lambda: api.get(f"/v1/jobs/{job['id']}").json()["status"] == "processing", 120, "processing")
    name = drill_db.rsplit("/", 1)[1]
    admin = create_engine(drill_db.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    terminated = 0
    try:
        with admin.connect() as conn:
            for _ in range(3):
                terminated += len(
                    conn.execute(
                        text(
                            "select pg_terminate_backend(pid) from pg_stat_activity"
                            " where datname = :d and pid <> pg_backend_pid()"
                        ),
                        {"d": name},
                    ).all()
                )
                time.sleep(1.5)
    finally:
        admin.dispose()
    assert terminated > 0
    start = time.monotonic()
    check_job(drill_db, api, rx, job["id"], "/hook/pg-terminate", drills)
    print(
        f"\n{terminated} database backends terminated: job completed {time.monotonic() - start:.0f} s later"
    )


def _detecting(drill_db: str, job_id: str) -> bool:
    """A detector has started a segment of the job (attempts counted) and not finished it."""
    engine = create_engine(drill_db)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "select count(*) from segments where job_id = :j and attempts > 0 and status = 'pending'"
                    ),
                    {"j": job_id},
                ).scalar_one()
            )
    finally:
        engine.dispose()
