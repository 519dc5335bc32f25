"""Periodic maintenance (queue `maintenance`, driven by Celery beat): the reconciler."""

from __future__ import annotations

import logging

from services.worker.app import app
from shared.broker import enqueue
from shared.config import get_settings
from shared.queues import TaskName
from shared.work import reconcile

log = logging.getLogger(__name__)


@app.task(name=TaskName.reconcile.value, acks_late=True, ignore_result=True)
def reconcile_jobs() -> int:
    todo = reconcile()
    for name, args in todo:
        enqueue(name, *args)
    if todo:
        log.warning("reconciler re-queued %d tasks", len(todo))
    return len(todo)


app.conf.beat_schedule = {
    "reconcile": {
        "task": TaskName.reconcile.value,
        "schedule": get_settings().reconcile_interval_s,
        "options": {"queue": "maintenance"},
    },
}
