"""Aggregator worker: segment probabilities → the job's verdict (queue `aggregate`)."""

from __future__ import annotations

from celery import Task

from services.worker.app import app
from services.worker.shell import run_job_task
from shared.broker.queues import TaskName
from shared.jobs.work import aggregate_job


@app.task(name=TaskName.aggregate.value, bind=True, acks_late=True, max_retries=None)
def aggregate(self: Task, job_id: str) -> None:
    run_job_task(self, job_id, lambda: aggregate_job(job_id))
