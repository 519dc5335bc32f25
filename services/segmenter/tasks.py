"""Segmenter worker: probe and split a video (queue `segment`)."""

from __future__ import annotations

from celery import Task

from services.worker.app import app
from services.worker.shell import run_job_task
from shared.broker.queues import TaskName
from shared.jobs.work import segment_job


@app.task(name=TaskName.segment.value, bind=True, acks_late=True, max_retries=None)
def segment(self: Task, job_id: str) -> None:
    run_job_task(self, job_id, lambda: segment_job(job_id))
