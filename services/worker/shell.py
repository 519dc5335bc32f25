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
import time
from collections.abc import Callable, Iterable
from typing import Any

from celery import Task
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.config import get_settings
from shared.errors import Cancelled, DFSError
from shared.jobs.events import dispatch
from shared.jobs.lifecycle import delete_media
from shared.jobs.work import Next, fail
from shared.storage import get_store

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
            failed = fail(job_id, exc, segment)
        except Exception:  # the database itself is down: let the broker redeliver later
            log.exception("could not record the failure", extra=extra)
            raise
        dispatch_persisted([], failed.finished, extra)
        return None
    if isinstance(outcome, Next):
        dispatch_persisted(outcome.tasks, outcome.finished, extra)
    return outcome


#: waits between tries of `dispatch_persisted` (about 15 s in all)
DISPATCH_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)


def dispatch_persisted(tasks: Iterable[Any], finished: Iterable[str], extra: dict[str, Any]) -> None:
    """Queue the follow-ups of work that is already persisted, retrying transient failures in
    place. The work is done, so retrying the task would find nothing left to do and never
    announce the job it finished: a database connection dropped while the `job.completed`
    delivery row was being written lost that webhook (the fault drill that terminates
    Postgres backends caught it). Every step is idempotent, so a repeat is harmless."""
    tasks, finished = list(tasks), list(finished)
    for attempt, wait in enumerate((*DISPATCH_BACKOFF_S, None)):
        try:
            dispatch(tasks, finished, get_settings())
            return
        except Exception as exc:
            if wait is None or not _is_transient(exc):
                raise
            log.warning(
                "follow-up not recorded (try %d), again in %.1fs: %s", attempt + 1, wait, exc, extra=extra
            )
            time.sleep(wait)


def _drop_media(job_id: str, extra: dict[str, Any]) -> None:
    try:
        removed = delete_media(get_store(), job_id)
    except Exception:  # retention deletes it later
        log.exception("could not delete the cancelled job's media", extra=extra)
        return
    if removed:
        log.info("deleted %d objects written after the cancel", removed, extra=extra)
