"""A stream outlives its ingest worker: SIGTERM hands it back (the open segment closed) and a
new worker resumes it; a SIGKILLed worker's stream is found by its stale heartbeat and resumed
by the reconciler. The stream's segment numbering and clock continue across both."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.services import Stack, start_redis_server
from tests.support.streams import LiveHLS
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recovery_stack(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    redis = start_redis_server(tmp_path_factory.mktemp("recovery-redis"))  # its own broker
    env = service_env | {
        "DFS_BROKER_URL": redis.url,
        "DFS_STREAM_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DFS_STREAM_SILENCE_TIMEOUT_S": "20",
        "DFS_STREAM_RECONNECT_BACKOFF_S": "0.5",
        "DFS_STREAM_HEARTBEAT_S": "1",
        "DFS_STREAM_STALE_AFTER_S": "6",
        "DFS_RECONCILE_INTERVAL_S": "2",
        "DFS_S3_BUCKET": "dfs-test-stream-recovery",
    }
    s = Stack(env=env, logs=tmp_path_factory.mktemp("stream-recovery-logs"))
    try:
        s.start_worker("ingest1", "ingest", concurrency=2, pool="threads")
        s.start_worker("detect", "detect")
        s.start_worker("ops", "webhooks,maintenance", concurrency=2, pool="threads")
        s.start_beat()
        s.start_api()
        yield s
    finally:
        s.stop_all()
        redis.stop()


def test_sigterm_hands_back_and_sigkill_is_recovered(
    recovery_stack: Stack, media_dir: Path, tmp_path: Path
) -> None:
    from shared.media.samples import make_clip

    clip = make_clip(media_dir / "recovery-face.mp4", "astronaut", seconds=4, width=480, height=270, fps=25)
    source = LiveHLS(clip, tmp_path / "live", loops=40)  # about 160 s of live video
    stack = recovery_stack
    api = httpx.Client(base_url=stack.api_url, timeout=60)
    try:
        wait_until(source.playlist.exists, 30, "the live playlist")
        created = api.post("/v1/streams", json={"url": source.url, "segment_seconds": 2}).json()
        sid = created["id"]

        def segments() -> list[dict]:
            return api.get(f"/v1/streams/{sid}/segments", params={"limit": 500}).json()["items"][::-1]

        def at_least(n: int) -> list[dict] | None:
            got = segments()
            return got if len(got) >= n else None

        wait_until(lambda: at_least(2), 180, "two closed segments", detail=lambda: stack.log_tail(30))
        stack.stop("ingest1")  # SIGTERM: warm shutdown, the ingest hands its stream back
        before = len(segments())
        assert api.get(f"/v1/streams/{sid}").json()["status"] == "live"
        stack.start_worker("ingest2", "ingest", concurrency=2, pool="threads")
        wait_until(
            lambda: at_least(before + 2), 180, "segments after the SIGTERM", detail=lambda: stack.log_tail(30)
        )
        assert "handed back" in (stack.logs / "ingest1.log").read_text()

        worker = stack.procs.pop("ingest2")
        os.killpg(worker.pid, signal.SIGKILL)  # no chance to hand anything back
        worker.wait(10)
        before = len(segments())
        stack.start_worker("ingest3", "ingest", concurrency=2, pool="threads")
        # Its heartbeat goes stale after 6 s; the reconciler re-queues the ingest for ingest3.
        wait_until(
            lambda: at_least(before + 2), 180, "segments after the SIGKILL", detail=lambda: stack.log_tail(30)
        )

        api.delete(f"/v1/streams/{sid}")
        doc = wait_until(
            lambda: (
                (d := api.get(f"/v1/streams/{sid}").json())["status"] in ("stopped", "ended", "failed") and d
            ),
            120,
            "the stream to stop",
            detail=lambda: stack.log_tail(30),
        )
        items = segments()
    finally:
        source.stop()
        api.close()
    assert doc["status"] == "stopped", doc
    assert [s["index"] for s in items] == list(range(len(items)))  # numbering continued, no gap, no repeat
    assert all(s["status"] == "done" for s in items) and doc["segments_done"] == len(items)
    for a, b in zip(items, items[1:], strict=False):
        assert b["start_s"] == pytest.approx(a["end_s"], abs=0.01)  # the stream's clock continued
