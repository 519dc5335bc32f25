"""The Celery application (broker connection and routing), shared by producers and workers.

Postgres is the source of truth; the broker only carries task ids. There is no result
backend: tasks write their results to the database.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery
from kombu import Queue as KombuQueue

from shared.broker.queues import JOB_TASKS, ROUTES, Queue, TaskName
from shared.config import Settings, get_settings
from shared.errors import BrokerUnavailable

log = logging.getLogger(__name__)

TASK_MODULES = [
    "services.segmenter.tasks",
    "services.detector.tasks",
    "services.aggregator.tasks",
    "services.webhooks.tasks",
    "services.maintenance.tasks",
    "services.streams.tasks",
]


def broker_options(settings: Settings) -> dict[str, Any]:
    url = settings.resolved_broker_url
    if url.startswith("filesystem://"):
        folder = settings.broker_folder
        (folder / "processed").mkdir(parents=True, exist_ok=True)
        (folder / "control").mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
        }
    if url.startswith(("redis://", "rediss://")):
        # A detect task may take minutes on CPU; redelivery only after this long unacked.
        return {"visibility_timeout": settings.detect_visibility_timeout_s}
    return {}


def make_celery(settings: Settings | None = None, include: list[str] | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery("deepfakestream", include=include or [])
    app.conf.update(
        broker_url=settings.resolved_broker_url,
        broker_transport_options=broker_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=Queue.segment.value,
        task_queues=[KombuQueue(q.value, routing_key=q.value) for q in Queue],
        task_routes={
            name.value: {"queue": queue.value, "routing_key": queue.value} for name, queue in ROUTES.items()
        },
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        timezone="UTC",
        enable_utc=True,
    )
    return app


_app: Celery | None = None
_app_lock = threading.Lock()


def get_celery() -> Celery:
    """The producer-side app for this process (the API, the CLI, other tasks)."""
    global _app
    with _app_lock:
        if _app is None:
            _app = make_celery()
        return _app


def reset_celery() -> None:
    global _app
    with _app_lock:
        _app = None


def task_id_for(task: TaskName, args: tuple[Any, ...]) -> str | None:
    """A job pipeline task's id, derived from its arguments (None: a random id)."""
    if task not in JOB_TASKS:
        return None
    return ":".join([task.value, *(str(a) for a in args)])


def enqueue(task: TaskName, *args: Any, countdown: float | None = None) -> None:
    """Send a task by name to its queue. Raises `BrokerUnavailable` if the broker is down."""
    app = get_celery()
    queue = ROUTES[task].value
    try:
        app.send_task(
            task.value,
            args=list(args),
            queue=queue,
            routing_key=queue,
            task_id=task_id_for(task, args),
            countdown=countdown,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0},
        )
    except Exception as exc:
        log.warning("could not queue %s: %s: %s", task.value, type(exc).__name__, exc)
        raise BrokerUnavailable(
            f"could not queue {task.value}: the message broker could not be reached"
        ) from exc


def ping_broker() -> None:
    app = get_celery()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        log.warning("broker unreachable: %s: %s", type(exc).__name__, exc)
        raise BrokerUnavailable("the message broker could not be reached") from exc


def revoke_job_tasks(job_id: str, segments: int) -> None:
    """Ask workers to drop the job's still-queued pipeline tasks (best effort: every task also
    reads the job's state first and does nothing for a cancelled job)."""
    ids = [task_id_for(TaskName.segment, (job_id,)), task_id_for(TaskName.aggregate, (job_id,))]
    ids += [task_id_for(TaskName.detect, (job_id, i)) for i in range(max(segments, 1))]
    try:
        get_celery().control.revoke([i for i in ids if i])
    except Exception as exc:  # the database guard still holds
        log.warning("could not broadcast revoke: %s", exc, extra={"job_id": job_id})
