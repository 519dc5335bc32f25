"""Public response shapes (see ../shared/API.md). Used for OpenAPI and for serialising jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class MediaPublic(BaseModel):
    kind: Literal["video", "image"]
    filename: str | None = None
    size_bytes: int
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None


class ProgressPublic(BaseModel):
    segments_total: int | None = None
    segments_done: int = 0


class ModelPublic(BaseModel):
    name: str
    version: str
    sha256: str


class SegmentPublic(BaseModel):
    index: int
    start_s: float
    end_s: float
    probability: float | None = None
    frames_sampled: int
    faces: int


class ResultPublic(BaseModel):
    verdict: Literal["fake", "real", "no_face"]
    probability: float | None = Field(None, description="Probability that the media is manipulated; null for no_face.")
    threshold: float
    model: ModelPublic
    segments: list[SegmentPublic]
    faces_scored: int
    warning: str | None = None


class ProblemPublic(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class JobPublic(BaseModel):
    id: str
    status: Literal["queued", "processing", "completed", "failed", "cancelled"]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    media: MediaPublic
    progress: ProgressPublic
    result: ResultPublic | None = None
    error: dict[str, Any] | None = None
    callback_url: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class JobList(BaseModel):
    items: list[JobPublic]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next (older) page.")
