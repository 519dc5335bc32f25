"""Live stream tasks: the ingest (queue `ingest`, one long task per stream) and the scoring of
one closed segment (queue `detect`, beside the file jobs' detect tasks).

On SIGTERM the running ingests close their open segment and re-queue their streams for
another worker. The ingest is acknowledged on receipt (`acks_late=False`): it runs for as long as the stream
does, longer than any broker visibility timeout, so a redelivery would start a second reader.
A killed ingest is found by its missing heartbeat and re-queued by the reconciler instead.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import Task
from celery.signals import worker_shutting_down

from services.worker.app import app
from services.worker.shell import _is_transient
from shared.broker.queues import TaskName
from shared.config import get_settings
from shared.streams.work import SHUTTING_DOWN, detect_stream_segment, fail_segment, ingest_stream

log = logging.getLogger(__name__)


@worker_shutting_down.connect
def _hand_back_streams(**_: Any) -> None:
    """Warm shutdown (SIGTERM): running ingests stop and re-queue their streams. Effective with
    the thread pool, where the ingests run in this process (run ingest workers with it)."""
    SHUTTING_DOWN.set()


@app.task(name=TaskName.stream_ingest.value, bind=True, acks_late=False, ignore_result=True)
def ingest(self: Task, stream_id: str) -> None:
    ingest_stream(stream_id)


@app.task(name=TaskName.stream_detect.value, bind=True, acks_late=True, max_retries=None, ignore_result=True)
def detect(self: Task, stream_id: str, index: int) -> None:
    extra = {"stream_id": stream_id, "segment": index}
    try:
        detect_stream_segment(stream_id, index)
    except Exception as exc:
        retries = self.request.retries or 0
        if _is_transient(exc) and retries < get_settings().task_max_retries:
            raise self.retry(
                exc=exc, countdown=min(30.0, 2.0 * 2**retries) * (0.5 + random.random())
            ) from exc
        log.exception("stream segment failed", extra=extra)
        fail_segment(stream_id, index, exc)
