"""Webhook delivery worker (queue `webhooks`): one try per task; a retry is queued again with
its backoff. I/O bound, so it runs well on the threads pool, e.g.
    deepfakestream worker --queues webhooks --pool threads --concurrency 8
"""

from __future__ import annotations

from services.worker.app import app
from shared.broker import enqueue
from shared.broker.queues import TaskName
from shared.config import get_settings
from shared.webhooks.delivery import attempt

#: Longer waits are not parked in the broker as ETA messages (which a Redis broker would
#: redeliver after its visibility timeout): the maintenance sweep queues the try when it is due.
MAX_COUNTDOWN_S = 600.0


@app.task(name=TaskName.deliver_webhook.value, acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: str) -> str | None:
    outcome = attempt(delivery_id, get_settings())
    if outcome is None:
        return None
    if outcome.retry_in_s is not None and outcome.retry_in_s <= MAX_COUNTDOWN_S:
        # A lost message is found again by the maintenance sweep (the row says when it is due).
        enqueue(TaskName.deliver_webhook, delivery_id, countdown=outcome.retry_in_s)
    return outcome.status
