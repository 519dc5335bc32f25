"""The worker-side Celery application: every task module, plus process lifecycle hooks.

Run one worker per queue kind, e.g.
    deepfakestream worker --queues segment
    deepfakestream worker --queues detect --concurrency 1
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import bootsteps
from celery.signals import worker_process_init, worker_ready, worker_shutdown

from shared.broker import TASK_MODULES, make_celery
from shared.config import get_settings
from shared.logging import configure_logging

log = logging.getLogger(__name__)

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


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    """Per child process, after fork: logging, engines, and (detect workers) the models."""
    settings = get_settings()
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
