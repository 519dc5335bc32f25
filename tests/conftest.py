"""Shared fixtures: generated media, a checkpoint, and real service stacks.

Environment knobs (so several checkouts can test side by side on one machine):
DFS_TEST_DATABASE (default dfs_test), DFS_TEST_REDIS_DB (default 15).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.receiver import Receiver, start_receiver
from tests.support.services import (
    REPO_ROOT,
    RedisServer,
    S3Gateway,
    Stack,
    flush_redis,
    recreate_database,
    redis_url,
    start_redis_server,
    start_s3_gateway,
)

TEST_DB = os.environ.get("DFS_TEST_DATABASE", "dfs_test")
TEST_REDIS_DB = int(os.environ.get("DFS_TEST_REDIS_DB", "15"))

# Keep torch from fighting the worker processes for the two cores.
os.environ.setdefault("OMP_NUM_THREADS", "2")


def _clean_env() -> dict[str, str]:
    """The parent's environment without any DFS_* setting (each stack sets its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFS_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- media ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def face_clip(media_dir: Path) -> Path:
    """6 s, 854x480, 25 fps, a keyframe every 2 s: three segments with a real face."""
    from shared.media.samples import make_clip

    return make_clip(media_dir / "astronaut.mp4", "astronaut", seconds=6, width=854, height=480, fps=25)


@pytest.fixture(scope="session")
def noface_clip(media_dir: Path) -> Path:
    from shared.media.samples import make_clip

    return make_clip(media_dir / "coffee.mp4", "coffee", seconds=4, width=854, height=480, fps=25)


@pytest.fixture(scope="session")
def face_image(media_dir: Path) -> Path:
    from shared.media.samples import write_image

    return write_image(media_dir / "grace_hopper.jpg", "grace_hopper")


@pytest.fixture(scope="session")
def corrupt_clip(media_dir: Path, face_clip: Path) -> Path:
    from shared.media.samples import make_corrupt_mp4

    return make_corrupt_mp4(media_dir / "corrupt.mp4", face_clip)


@pytest.fixture(scope="session")
def text_file(media_dir: Path) -> Path:
    path = media_dir / "notes.mp4"  # a misleading name: the content decides
    path.write_text("this is not a video\n" * 50)
    return path


# --- model ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def untrained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised network saved as a checkpoint that says it is untrained."""
    from shared.model.checkpoint import init_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "untrained-b0.safetensors"
    init_checkpoint(path)
    return path


# --- settings for in-process code -------------------------------------------------------------


@pytest.fixture
def embedded_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, untrained_checkpoint: Path
) -> Iterator[object]:
    """Embedded defaults (SQLite, local folder, filesystem broker) in a fresh data dir."""
    from shared.config import get_settings
    from shared.db import dispose_engines
    from shared.db.engine import upgrade_database

    for key in list(os.environ):
        if key.startswith("DFS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DFS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DFS_CHECKPOINT", str(untrained_checkpoint))
    get_settings.cache_clear()
    dispose_engines()
    _reset_clients()
    settings = get_settings()
    upgrade_database(settings.resolved_database_url)
    yield settings
    dispose_engines()
    get_settings.cache_clear()
    _reset_clients()


def _reset_clients() -> None:
    from shared import storage
    from shared.broker import reset_celery

    storage._stores.clear()
    reset_celery()


# --- real services ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Gateway]:
    gw = start_s3_gateway(tmp_path_factory.mktemp("s3"))
    yield gw
    gw.stop()


@pytest.fixture(scope="session")
def pg_database_url() -> str:
    return recreate_database(TEST_DB)


@pytest.fixture(scope="session")
def service_env(
    pg_database_url: str,
    s3_gateway: S3Gateway,
    untrained_checkpoint: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """DFS_* settings of a production-like deployment: Postgres, Redis, S3."""
    from shared.db.engine import upgrade_database

    flush_redis(TEST_REDIS_DB)
    upgrade_database(pg_database_url)
    data_dir = tmp_path_factory.mktemp("svc-data")
    return _clean_env() | {
        "DFS_DATABASE_URL": pg_database_url,
        "DFS_BROKER_URL": redis_url(TEST_REDIS_DB),
        "DFS_S3_ENDPOINT": s3_gateway.endpoint,
        "DFS_S3_ACCESS_KEY": s3_gateway.access_key,
        "DFS_S3_SECRET_KEY": s3_gateway.secret_key,
        "DFS_S3_BUCKET": "dfs-test",
        "DFS_CHECKPOINT": str(untrained_checkpoint),
        "DFS_DATA_DIR": str(data_dir),
        "DFS_RECONCILE_INTERVAL_S": "5",
        "DFS_POLL_AFTER_S": "1",
        # Postgres means "production" (auth on by default); this stack tests the pipeline, not auth.
        "DFS_AUTH_ENABLED": "false",
    }


@pytest.fixture(scope="session")
def stack(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """API + segmenter/aggregator worker + detector worker, as separate processes."""
    s = Stack(env=service_env, logs=tmp_path_factory.mktemp("stack-logs"))
    try:
        s.start_worker("cpu", "segment,aggregate,webhooks,maintenance")
        s.start_worker("detect", "detect")
        s.start_api()
        yield s
    finally:
        s.stop_all()


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def embedded_stack(untrained_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same processes on the embedded defaults: no server at all."""
    from shared.config import Settings
    from shared.db.engine import upgrade_database

    data_dir = tmp_path_factory.mktemp("embedded-data")
    env = _clean_env() | {
        "DFS_DATA_DIR": str(data_dir),
        "DFS_CHECKPOINT": str(untrained_checkpoint),
        "DFS_POLL_AFTER_S": "1",
    }
    upgrade_database(Settings(data_dir=data_dir).resolved_database_url)
    s = Stack(env=env, logs=tmp_path_factory.mktemp("embedded-logs"))
    try:
        s.start_worker("all", "segment,detect,aggregate,webhooks,maintenance")
        s.start_api()
        yield s
    finally:
        s.stop_all()


@pytest.fixture
def service_settings(service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """In-process code configured like the services: Postgres, Redis, S3."""
    from shared.config import get_settings
    from shared.db import dispose_engines

    for key in list(os.environ):
        if key.startswith("DFS_"):
            monkeypatch.delenv(key)
    for key, value in service_env.items():
        if key.startswith("DFS_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    dispose_engines()
    _reset_clients()
    yield get_settings()
    dispose_engines()
    get_settings.cache_clear()
    _reset_clients()


# --- an integrator-facing deployment: auth on, webhooks to loopback, beat -------------------


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of its own, so a test may flush the whole broker."""
    server = start_redis_server(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def auth_env(
    service_env: dict[str, str], private_redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Production defaults (auth required because the database is Postgres), its own database,
    broker and bucket, webhooks allowed to loopback only through the allow-list setting, and
    short backoff/timeouts/retention so retries and sweeps happen within seconds."""
    from shared.db.engine import upgrade_database

    url = recreate_database(f"{TEST_DB}_auth")
    upgrade_database(url)
    env = {k: v for k, v in service_env.items() if k != "DFS_AUTH_ENABLED"}
    return env | {
        "DFS_DATABASE_URL": url,
        "DFS_BROKER_URL": private_redis.url,
        "DFS_S3_BUCKET": "dfs-test-auth",
        "DFS_DATA_DIR": str(tmp_path_factory.mktemp("auth-data")),
        "DFS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DFS_WEBHOOK_BACKOFF_BASE_S": "0.3",
        "DFS_WEBHOOK_BACKOFF_MAX_S": "3",
        "DFS_WEBHOOK_MAX_ATTEMPTS": "4",
        "DFS_WEBHOOK_CONNECT_TIMEOUT_S": "1",
        "DFS_WEBHOOK_READ_TIMEOUT_S": "1.5",
        "DFS_RECONCILE_INTERVAL_S": "2",
        "DFS_RECONCILE_STALE_AFTER_S": "10",
        "DFS_RETENTION_INTERVAL_S": "2",
        "DFS_MEDIA_RETENTION_DAYS": "0.0001",  # about 9 s
    }


@pytest.fixture(scope="session")
def auth_stack(auth_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """API + segment/aggregate/maintenance worker + webhooks worker (threads) + detector + beat."""
    s = Stack(env=auth_env, logs=tmp_path_factory.mktemp("auth-stack-logs"))
    try:
        s.start_worker("cpu", "segment,aggregate,maintenance")
        s.start_worker("hooks", "webhooks", concurrency=4, pool="threads")
        s.start_worker("detect", "detect")
        s.start_beat()
        s.start_api()
        yield s
    finally:
        s.stop_all()


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    rec = start_receiver()
    yield rec
    rec.stop()


@pytest.fixture(scope="session")
def keyed_api(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An API process with API keys required (no workers), on its own bucket: for tenant
    isolation tests against rows and objects the test writes itself (tests/support/seed.py).
    It serves the bundled demo checkpoint's model card (DFS_CHECKPOINT unset)."""
    env = {k: v for k, v in service_env.items() if k != "DFS_CHECKPOINT"}
    env |= {"DFS_AUTH_ENABLED": "true", "DFS_S3_BUCKET": "dfs-auth-tests"}
    s = Stack(env=env, logs=tmp_path_factory.mktemp("auth-api"))
    try:
        s.start_api()
        yield s
    finally:
        s.stop_all()
