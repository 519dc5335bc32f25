"""What happens when a job reaches a terminal state (completed, failed, cancelled).

A delivery row is written for the event (once: a second call finds it), then the caller
queues the returned tasks. The row is the durable part: if the queue message is lost, the
maintenance sweep finds the pending delivery and queues it again. Nothing is returned when
the job has no callback URL or its callback was disabled by a 410.
"""

from __future__ import annotations

from typing import Any

from shared.config import Settings, get_settings
from shared.db import repo, session_scope
from shared.queues import TaskName
from shared.webhooks.delivery import create_delivery


def job_finished(job_id: str, settings: Settings | None = None) -> list[tuple[TaskName, tuple[Any, ...]]]:
    settings = settings or get_settings()
    with session_scope() as s:
        job = repo.find_job(s, job_id)
        if job is None:
            return []
        delivery_id = create_delivery(s, job, settings)
    return [(TaskName.deliver_webhook, (delivery_id,))] if delivery_id else []
