"""What happens when a job reaches a terminal state (completed, failed, cancelled).

A delivery row is written for the event (once: a second call finds it), then its delivery
task is queued. The row is the durable part: if the broker is down, or the queue message is
lost, the maintenance sweep finds the pending delivery and queues it again. Nothing is sent
when the job has no callback URL or its callback was disabled by a 410.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from shared.broker import enqueue
from shared.broker.queues import TaskName
from shared.config import Settings, get_settings
from shared.db import SessionScope, repo, scope_for
from shared.errors import BrokerUnavailable
from shared.jobs.presenters import job_document
from shared.webhooks.delivery import create_delivery

log = logging.getLogger(__name__)


def record_finished(job_id: str, settings: Settings, sessions: SessionScope | None = None) -> str | None:
    """Store the delivery row of the job's terminal event; its id, or None when nothing is sent."""
    with (sessions or scope_for(settings))() as s:
        job = repo.find_job(s, job_id)
        if job is None:
            return None
        return create_delivery(s, job, job_document(job), settings)


def announce_finished(
    job_id: str, settings: Settings | None = None, sessions: SessionScope | None = None
) -> None:
    """Job finished → store and queue its webhook. A broker outage only delays the webhook
    (the sweep queues the stored delivery), so it is logged, never raised."""
    settings = settings or get_settings()
    delivery_id = record_finished(job_id, settings, sessions)
    if delivery_id is None:
        return
    try:
        enqueue(TaskName.deliver_webhook, delivery_id)
    except BrokerUnavailable as exc:
        log.warning("webhook not queued (the sweep will retry): %s", exc, extra={"job_id": job_id})


def dispatch(
    tasks: Iterable[tuple[TaskName, tuple[Any, ...]]], finished: Iterable[str], settings: Settings
) -> None:
    """After work was persisted: queue its follow-up tasks (a broker error propagates, so the
    task is retried; a duplicate is harmless, every task being idempotent), then announce the
    jobs it finished."""
    for name, args in tasks:
        enqueue(name, *args)
    for job_id in finished:
        announce_finished(job_id, settings)
