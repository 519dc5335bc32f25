"""Delivery rows → the public delivery log."""

from __future__ import annotations

from shared.db.models import WebhookDelivery
from shared.webhooks.schemas import AttemptPublic, DeliveryPublic


def delivery_public(delivery: WebhookDelivery) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,
        type=delivery.event_type,  # type: ignore[arg-type]
        url=delivery.url,
        status=delivery.status,  # type: ignore[arg-type]
        max_attempts=delivery.attempt_limit,
        next_attempt_at=delivery.next_attempt_at,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        attempts=[
            AttemptPublic(
                number=a.number,
                started_at=a.started_at,
                finished_at=a.finished_at,
                status_code=a.status_code,
                duration_ms=a.duration_ms,
                response_excerpt=a.response_excerpt,
                error=a.error,
            )
            for a in delivery.attempt_log
        ],
    )
