"""Horizontal scale-out at the queue level, as an autoscaler drives it.

Real processes against Postgres, Redis and the S3 gateway: tasks wait in the Redis list named
like the queue (what KEDA's ScaledObject measures), two detector workers started the way a pod
starts them share that queue and finish one job together, each reporting its work on /metrics,
and a worker told to stop (SIGTERM, as Kubernetes scales down) finishes its segment first.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa

from tests.support.services import Stack, free_port, wait_job
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow

DETECTORS = ("detect-a", "detect-b")


def submit(client: httpx.Client, path: Path) -> str:
    with open(path, "rb") as fh:
        r = client.post("/v1/jobs", files={"file": (path.name, fh, "video/mp4")})
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def segments(engine: sa.Engine, job_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                'SELECT "index", status, worker, attempts, updated_at FROM segments WHERE job_id = :j ORDER BY "index"'
            ),
            {"j": job_id},
        )
        return [dict(r._mapping) for r in rows]


def wait_for(predicate: Any, timeout: float, what: str, stack: Stack) -> Any:
    """`wait_until`, with the stack's logs when it times out."""
    return wait_until(predicate, timeout, what, detail=stack.log_tail)


def _both_busy(segs: list[dict[str, Any]]) -> bool:
    started = [s for s in segs if s["attempts"] == 1 and s["status"] == "pending"]
    if any(s["status"] == "done" for s in segs):
        raise AssertionError(f"a segment finished before both workers were seen busy: {segs}")
    return len(started) == 2


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels` (Prometheus text format)."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


@pytest.fixture(scope="module")
def engine(service_env: dict[str, str]) -> Iterator[sa.Engine]:
    eng = sa.create_engine(service_env["DFS_DATABASE_URL"])
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def broker(service_env: dict[str, str]) -> redis.Redis:
    return redis.Redis.from_url(service_env["DFS_BROKER_URL"])


@pytest.fixture(scope="module")
def detectors(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """The shared stack minus its own detector: the queue is ours. Restored afterwards."""
    stack.stop("detect")
    files = tmp_path_factory.mktemp("detectors")
    workers: dict[str, dict[str, Any]] = {}
    for name in DETECTORS:
        workers[name] = {
            "ready": files / f"{name}.ready",
            "metrics_port": free_port(),
            "env": {
                "DFS_WORKER_READY_FILE": str(files / f"{name}.ready"),
                "DFS_WORKER_HEARTBEAT_FILE": str(files / f"{name}.heartbeat"),
                "OMP_NUM_THREADS": "1",
            },
        }
        workers[name]["env"]["DFS_WORKER_METRICS_PORT"] = str(workers[name]["metrics_port"])
    try:
        yield workers
    finally:
        for name in DETECTORS:
            stack.stop(name)
        stack.start_worker("detect", "detect")


def start_detectors(stack: Stack, workers: dict[str, dict[str, Any]]) -> None:
    for name, w in workers.items():
        w["proc"] = stack.start_worker(name, "detect", env=w["env"])
    wait_for(
        lambda: all(w["ready"].exists() for w in workers.values()), 180, "the detectors to be ready", stack
    )


def test_detect_tasks_wait_in_the_redis_list_named_like_the_queue(
    stack: Stack,
    detectors: dict[str, dict[str, Any]],
    broker: redis.Redis,
    engine: sa.Engine,
    face_clip: Path,
) -> None:
    """What the KEDA trigger reads (`listName: detect`): one list entry per queued segment."""
    with httpx.Client(base_url=stack.api_url, timeout=60) as client:
        job_id = submit(client, face_clip)
        wait_for(lambda: len(segments(engine, job_id)) == 3, 120, "the segmenter to split", stack)
        assert wait_for(lambda: broker.llen("detect") == 3, 30, "three detect tasks queued", stack)
        assert not [k for k in broker.keys("detect*") if k != b"detect"], "no priority sub-lists"

        start_detectors(stack, detectors)  # scale from 0 to 2: the backlog drains
        done = wait_job(client, job_id, stack=stack)
    assert done["status"] == "completed", done
    assert broker.llen("detect") == 0


def test_two_detector_workers_share_the_queue_and_finish_a_job_together(
    stack: Stack, detectors: dict[str, dict[str, Any]], engine: sa.Engine, face_clip: Path
) -> None:
    if any("proc" not in w for w in detectors.values()):
        start_detectors(stack, detectors)
    with httpx.Client(base_url=stack.api_url, timeout=60) as client:
        job_id = submit(client, face_clip)  # both workers idle: prefetch 1 gives each a segment
        done = wait_job(client, job_id, stack=stack)
    assert done["status"] == "completed", done
    segs = segments(engine, job_id)
    assert [s["status"] for s in segs] == ["done"] * 3
    nodes = {s["worker"].split(":")[0].split("@")[0] for s in segs}
    assert nodes == set(DETECTORS), segs
    # node name + pid: the pool process that did the work, one per worker here
    assert len({s["worker"] for s in segs}) == 2

    # each worker's /metrics counts exactly the detect tasks it ran, over every job so far
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT split_part(worker, '@', 1), count(*) FROM segments GROUP BY 1")
        ).all()
    by_worker: dict[str, int] = {str(r[0]): int(r[1]) for r in rows}
    for name, w in detectors.items():
        text = httpx.get(f"http://127.0.0.1:{w['metrics_port']}/metrics", timeout=5).text
        ran = metric(text, "dfs_worker_tasks_total", task="dfs.detect", state="success")
        assert ran == by_worker[name], (name, ran, by_worker)
        assert metric(text, "dfs_worker_task_duration_seconds_count", task="dfs.detect") == ran
        assert metric(text, "dfs_worker_tasks_running", task="dfs.detect") == 0


def test_sigterm_lets_a_busy_worker_finish_its_segment_then_exit(
    stack: Stack, detectors: dict[str, dict[str, Any]], engine: sa.Engine, face_clip: Path
) -> None:
    """Scale-down: Kubernetes sends SIGTERM to the container's main process, the Celery worker
    (`deepfakestream worker` execs it, so the signal reaches it). It takes no new task, finishes
    the one in hand (warm shutdown) and exits 0; nothing is redone by anyone."""
    if any("proc" not in w for w in detectors.values()):
        start_detectors(stack, detectors)
    victim = detectors["detect-a"]["proc"]
    with httpx.Client(base_url=stack.api_url, timeout=60) as client:
        job_id = submit(client, face_clip)
        # both workers busy: two segments started (attempts bumped), none finished yet
        wait_for(lambda: _both_busy(segments(engine, job_id)), 120, "both workers busy", stack)
        stopped_at = time.time()
        os.kill(victim.pid, signal.SIGTERM)  # the main process only, as a container runtime does
        assert victim.wait(timeout=120) == 0
        done = wait_job(client, job_id, stack=stack)
    assert done["status"] == "completed", done
    segs = segments(engine, job_id)
    assert all(s["attempts"] == 1 for s in segs), f"a segment was interrupted and redone: {segs}"
    by_victim = [s for s in segs if s["worker"].startswith("detect-a@")]
    assert len(by_victim) == 1, f"the stopped worker finished its segment and took no other: {segs}"
    assert by_victim[0]["updated_at"].timestamp() > stopped_at, "it finished after the signal"
    assert "Warm shutdown" in (stack.logs / "detect-a.log").read_text()
    stack.procs.pop("detect-a", None)
