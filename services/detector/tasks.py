"""Detector worker: decode, detect faces and score one segment (queue `detect`)."""

from __future__ import annotations

from celery import Task

from services.worker.app import app
from services.worker.shell import run_job_task
from shared.broker.queues import TaskName
from shared.jobs.work import detect_segment


@app.task(name=TaskName.detect.value, bind=True, acks_late=True, max_retries=None)
def detect(self: Task, job_id: str, index: int) -> None:
    run_job_task(self, job_id, lambda: detect_segment(job_id, index), segment=index)
