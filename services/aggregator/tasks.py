"""Aggregator worker: segment probabilities → the job's verdict (queue `aggregate`)."""

from __future__ import annotations

from celery import Task

from services.worker.app import app
from services.worker.shell import run_job_task
from shared.queues import TaskName
from shared.work import Next, aggregate_job


def _aggregate_and_notify(job_id: str) -> Next:
    completed = aggregate_job(job_id)
    if completed:
        from shared.events import job_finished

        return Next(job_finished(job_id))
    return Next([])


@app.task(name=TaskName.aggregate.value, bind=True, acks_late=True, max_retries=None)
def aggregate(self: Task, job_id: str) -> None:
    run_job_task(self, job_id, lambda: _aggregate_and_notify(job_id))
