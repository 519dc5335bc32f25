"""The worker-side Celery application: every task module, plus process lifecycle hooks.

Run one worker per queue kind, e.g.
    deepfakestream worker --queues segment
    deepfakestream worker --queues detect --concurrency 1
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from celery import bootsteps
from celery.signals import (
    celeryd_after_setup,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from shared.broker import TASK_MODULES, make_celery
from shared.config import get_settings
from shared.logging import configure_logging

log = logging.getLogger(__name__)

# Worker metrics use prometheus_client's multiprocess mode: each pool process writes its samples
# to files in one folder and the main process serves their sum. The folder must be known before
# prometheus_client is first imported in this process (it picks its value store then), hence here.
_own_metrics_dir: str | None = None
if get_settings().worker_metrics_port is not None and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    _own_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="dfs-worker-metrics-")

from prometheus_client import (  # noqa: E402  (after PROMETHEUS_MULTIPROC_DIR is set)
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

TASKS = Counter("dfs_worker_tasks_total", "Tasks finished, by task and final Celery state", ["task", "state"])
TASK_DURATION = Histogram(
    "dfs_worker_task_duration_seconds",
    "Wall time of one task",
    ["task"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
TASKS_RUNNING = Gauge("dfs_worker_tasks_running", "Tasks running now", ["task"], multiprocess_mode="livesum")

app = make_celery(get_settings(), include=TASK_MODULES)


class _NoResultBackendNoise(logging.Filter):
    """There is deliberately no result backend (Postgres holds results), so Celery's attempt to
    record a revoke there (DELETE /v1/jobs revokes queued tasks) always fails: not worth a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "as revoked in backend" not in record.getMessage()


logging.getLogger("celery.worker.control").addFilter(_NoResultBackendNoise())


class HeartbeatStep(bootsteps.StartStopStep):
    """Touch a file every few seconds from the worker's main process.

    A liveness probe checks its age. Unlike `celery inspect ping`, this keeps working while a
    concurrency-1 detect worker's only child is busy for minutes (celery/celery#4079).
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.path = get_settings().worker_heartbeat_file
        self.tref: Any = None

    def start(self, parent: Any) -> None:
        if self.path is not None:
            self.beat()
            self.tref = parent.timer.call_repeatedly(5.0, self.beat, (), priority=10)

    def stop(self, parent: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()

    def beat(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()


app.steps["worker"].add(HeartbeatStep)


_node_name = socket.gethostname()


@celeryd_after_setup.connect
def _remember_node_name(sender: Any, **_: Any) -> None:
    """The Celery node name (`detect0@host`), known in the main process before the pool forks."""
    global _node_name
    _node_name = str(sender)
    _name_this_process()


def _name_this_process() -> None:
    """Segments record who scored them: node name + pid tells apart the pool processes of all
    the workers on one host, which share the host name."""
    import shared.jobs.work

    shared.jobs.work.WORKER_NAME = f"{_node_name}:{os.getpid()}"


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    """Main process, before the pool starts: serve /metrics with every pool process's samples."""
    port = get_settings().worker_metrics_port
    if port is None:
        return
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # a previous run's processes (e.g. a restarted container)
        stale.unlink(missing_ok=True)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(folder))
    try:
        start_http_server(port, registry=registry)
    except OSError as exc:  # e.g. several workers on one host given the same port
        log.error("worker metrics not served: port %d: %s", port, exc)
        return
    log.info("worker metrics on :%d/metrics", port)


_task_started: dict[str, float] = {}


@task_prerun.connect
def _count_task_start(task_id: str, task: Any, **_: Any) -> None:
    _task_started[task_id] = time.monotonic()
    TASKS_RUNNING.labels(task.name).inc()


@task_postrun.connect
def _count_task_end(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    TASKS_RUNNING.labels(task.name).dec()
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_DURATION.labels(task.name).observe(time.monotonic() - started)
    TASKS.labels(task.name, (state or "unknown").lower()).inc()


@worker_process_shutdown.connect
def _forget_process_metrics(**_: Any) -> None:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # drop its share of the live gauges


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    """Per child process, after fork: logging, engines, and (detect workers) the models."""
    settings = get_settings()
    _name_this_process()
    configure_logging(settings)
    from shared.db import dispose_engines

    dispose_engines()  # never share a connection pool across fork
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    if settings.worker_preload_models:
        from shared.model.classifier import get_classifier
        from shared.model.face_detector import get_face_detector

        clf = get_classifier(settings)
        get_face_detector(settings)
        log.info("models loaded: %s %s", clf.identity.name, clf.identity.version)
    _mark_ready()


def _mark_ready() -> None:
    path = get_settings().worker_ready_file
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(os.getpid()))


@worker_ready.connect
def _ready(**_: Any) -> None:
    configure_logging(get_settings())
    log.info("worker ready")


@worker_shutdown.connect
def _shutdown(**_: Any) -> None:
    path: Path | None = get_settings().worker_ready_file
    if path is not None:
        path.unlink(missing_ok=True)
    if _own_metrics_dir is not None:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
