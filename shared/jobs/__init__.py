"""The job domain: a job from submission to its terminal event.

- `submit`: check what a client sent, commit the job row, queue its first task.
- `work`: what each Celery task does (segment, detect, aggregate, fail, reconcile), returning
  `Next` (follow-up tasks, finished jobs) for the task shell to dispatch.
- `events`: a finished job's webhook, stored then queued (`announce_finished`, `dispatch`).
- `lifecycle`: cancel and delete, media retention.
- `schemas`, `presenters`: the public job document the API and the webhooks send.
- `idempotency`: Idempotency-Key claims.

Import the module you need (`from shared.jobs import submit`); this file imports none of them,
so the torch-free API can use `submit` without loading `work` (which needs the model).
"""
