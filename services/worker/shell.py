"""The thin shell every job task wraps around its work function.

- Transient failures (storage, broker, database unreachable) are retried with backoff.
- Anything else ends the job as `failed` with a readable problem: nothing stays `processing`;
  the `job.failed` webhook is queued like `job.completed` is.
- A job cancelled under a running task: the task stops at its next check and deletes the
  job's media once more (it may have written objects after the API deleted them).
- Only after the work is persisted are follow-up tasks queued (a lost enqueue is repaired
  by the reconciler; a duplicated one is harmless because every task is idempotent).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from celery import Task
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.broker import enqueue
from shared.config import get_settings
from shared.errors import BrokerUnavailable, Cancelled, DFSError
from shared.work import Next, fail

log = logging.getLogger(__name__)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DFSError):
        return exc.transient
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def run_job_task(
    task: Task, job_id: str, work: Callable[[], Next | Any], *, segment: int | None = None
) -> Any:
    extra = {"job_id": job_id, "task": task.name} | ({"segment": segment} if segment is not None else {})
    try:
        outcome = work()
    except Cancelled:
        log.info("job cancelled; work dropped", extra=extra)
        _drop_media(job_id, extra)
        return None
    except Exception as exc:
        retries = task.request.retries or 0
        if _is_transient(exc) and retries < get_settings().task_max_retries:
            countdown = min(60.0, 2.0 * 2**retries) * (0.5 + random.random())
            log.warning("transient failure, retrying in %.1fs: %s", countdown, exc, extra=extra)
            raise task.retry(exc=exc, countdown=countdown) from exc
        log.exception("task failed", extra=extra)
        try:
            changed = fail(job_id, exc, segment)
        except Exception:  # the database itself is down: let the broker redeliver later
            log.exception("could not record the failure", extra=extra)
            raise
        if changed:
            notify_finished(job_id)
        return None
    if isinstance(outcome, Next):
        for name, args in outcome.tasks:
            enqueue(name, *args)
    return outcome


def notify_finished(job_id: str) -> None:
    """Queue the job's terminal-event webhook. The delivery row is already stored, so a broker
    outage here only delays it until the maintenance sweep re-queues it."""
    from shared.events import job_finished

    for name, args in job_finished(job_id):
        try:
            enqueue(name, *args)
        except BrokerUnavailable as exc:
            log.warning("webhook not queued (the sweep will retry): %s", exc, extra={"job_id": job_id})


def _drop_media(job_id: str, extra: dict[str, Any]) -> None:
    from shared.lifecycle import delete_media
    from shared.storage import get_store

    try:
        removed = delete_media(get_store(), job_id)
    except Exception:  # retention deletes it later
        log.exception("could not delete the cancelled job's media", extra=extra)
        return
    if removed:
        log.info("deleted %d objects written after the cancel", removed, extra=extra)
