"""The public shape of a webhook delivery and its attempts (the delivery log)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class AttemptPublic(BaseModel):
    number: int
    started_at: datetime
    finished_at: datetime | None = None
    status_code: int | None = Field(
        None, description="The receiver's HTTP status; null when no response came."
    )
    duration_ms: int | None = None
    response_excerpt: str | None = Field(None, description="First 512 bytes of the receiver's answer.")
    error: str | None = Field(None, description="Timeout, connection error, or why the URL was refused.")


class DeliveryPublic(BaseModel):
    id: str = Field(description="The `webhook-id` header: the same on every attempt of this event.")
    type: Literal[
        "job.completed", "job.failed", "job.cancelled", "stream.alert", "stream.ended", "stream.failed"
    ]
    url: str
    status: Literal["pending", "sending", "succeeded", "failed", "disabled"]
    max_attempts: int
    next_attempt_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptPublic]


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]
