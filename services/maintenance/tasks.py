"""Periodic maintenance (queue `maintenance`, driven by Celery beat):

- the reconciler: re-queues work whose queue message vanished (broker flush or restart) and
  webhook deliveries that are due but no longer queued;
- retention: deletes media of jobs finished more than `media_retention_days` ago, unused
  presigned uploads and expired idempotency keys. Results and delivery logs stay.
"""

from __future__ import annotations

import logging

from services.worker.app import app
from shared.broker.queues import Queue, TaskName
from shared.config import get_settings
from shared.db import scope_for
from shared.jobs.events import dispatch
from shared.jobs.lifecycle import expire
from shared.jobs.work import reconcile
from shared.streams.service import expire_stream_media
from shared.streams.work import reconcile_streams
from shared.webhooks.delivery import sweep

log = logging.getLogger(__name__)


@app.task(name=TaskName.reconcile.value, acks_late=True, ignore_result=True)
def reconcile_jobs() -> int:
    settings = get_settings()
    todo = reconcile(settings)
    todo.tasks += reconcile_streams(settings)
    with scope_for(settings)() as s:
        todo.tasks += [(TaskName.deliver_webhook, (delivery_id,)) for delivery_id in sweep(s, settings)]
    dispatch(todo.tasks, todo.finished, settings)
    if todo.tasks or todo.finished:
        log.warning(
            "reconciler re-queued %d tasks and failed %d stuck jobs", len(todo.tasks), len(todo.finished)
        )
    return len(todo.tasks)


@app.task(name=TaskName.retention.value, acks_late=True, ignore_result=True)
def expire_media() -> int:
    report = expire(get_settings())
    streams = expire_stream_media(get_settings())
    if streams:
        log.info("retention: media of %d ended streams deleted", streams)
    if report.jobs or report.uploads or report.idempotency_keys:
        log.info(
            "retention: media of %d jobs (%d objects), %d unused uploads, %d idempotency keys deleted",
            report.jobs,
            report.objects,
            report.uploads,
            report.idempotency_keys,
        )
    return report.jobs


app.conf.beat_schedule = {
    "reconcile": {
        "task": TaskName.reconcile.value,
        "schedule": get_settings().reconcile_interval_s,
        "options": {"queue": Queue.maintenance.value},
    },
    "retention": {
        "task": TaskName.retention.value,
        "schedule": get_settings().retention_interval_s,
        "options": {"queue": Queue.maintenance.value},
    },
}
