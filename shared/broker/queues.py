"""Queue registry: every task's name and queue in one place. Routing is data.

One queue per kind of resource so each scales on its own: `segment` (CPU, ffmpeg), `detect`
(GPU, prefetch 1, long visibility timeout), `aggregate` (light), `webhooks` (I/O, retries),
`maintenance` (reconciler, retention),
`ingest` (one long task per live stream, CPU and network). No broker priorities on `detect`: Redis priorities
split a queue into several lists and break queue-length autoscaling.
"""

from __future__ import annotations

import enum


class Queue(enum.StrEnum):
    segment = "segment"
    detect = "detect"
    aggregate = "aggregate"
    webhooks = "webhooks"
    maintenance = "maintenance"
    ingest = "ingest"


class TaskName(enum.StrEnum):
    segment = "dfs.segment"
    detect = "dfs.detect"
    aggregate = "dfs.aggregate"
    deliver_webhook = "dfs.webhooks.deliver"
    reconcile = "dfs.maintenance.reconcile"
    retention = "dfs.maintenance.retention"
    stream_ingest = "dfs.streams.ingest"
    stream_detect = "dfs.streams.detect"


ROUTES: dict[TaskName, Queue] = {
    TaskName.segment: Queue.segment,
    TaskName.detect: Queue.detect,
    TaskName.aggregate: Queue.aggregate,
    TaskName.deliver_webhook: Queue.webhooks,
    TaskName.reconcile: Queue.maintenance,
    TaskName.retention: Queue.maintenance,
    TaskName.stream_ingest: Queue.ingest,
    TaskName.stream_detect: Queue.detect,
}

#: Tasks of a job's pipeline: their ids are derived from their arguments so that cancelling a
#: job can revoke the ones still queued.
JOB_TASKS = frozenset({TaskName.segment, TaskName.detect, TaskName.aggregate})
