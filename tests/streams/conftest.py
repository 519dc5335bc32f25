"""Fixtures of the live stream tests: a generated face clip and a service stack with ingest
workers, shared by the API tests and the console test; the console's headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import Stack, start_redis_server
from tests.web.conftest import browser  # noqa: F401 - the console test's Chromium


@pytest.fixture(scope="session")
def stream_clip(media_dir: Path) -> Path:
    """4 s, 640x360, 25 fps, a keyframe every 2 s, a real face throughout."""
    from shared.media.samples import make_clip

    return make_clip(media_dir / "stream-face.mp4", "astronaut", seconds=4, width=640, height=360, fps=25)


@pytest.fixture(scope="session")
def live_stack(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # A broker of its own: no other stack's workers (without these settings) take its tasks.
    redis = start_redis_server(tmp_path_factory.mktemp("stream-redis"))
    env = service_env | {
        "DFS_BROKER_URL": redis.url,
        "DFS_STREAM_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DFS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DFS_STREAM_SILENCE_TIMEOUT_S": "4",
        "DFS_STREAM_RECONNECT_BACKOFF_S": "0.5",
        "DFS_WEBHOOK_BACKOFF_BASE_S": "0.3",
        "DFS_S3_BUCKET": "dfs-test-streams",
    }
    s = Stack(env=env, logs=tmp_path_factory.mktemp("stream-stack-logs"))
    try:
        s.start_worker("ingest", "ingest,webhooks", concurrency=4, pool="threads")
        s.start_worker("detect", "detect")
        s.start_api()
        yield s
    finally:
        s.stop_all()
        redis.stop()
