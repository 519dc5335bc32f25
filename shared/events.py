"""What happens when a job reaches a terminal state (completed, failed, cancelled).

Returns the follow-up tasks to queue (webhook deliveries); empty when the job has no
callback URL.
"""

from __future__ import annotations

from typing import Any

from shared.queues import TaskName


def job_finished(job_id: str) -> list[tuple[TaskName, tuple[Any, ...]]]:
    return []
