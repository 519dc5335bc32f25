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


# --- evidence, model card and console configuration ----------------------------------------


class FacePublic(BaseModel):
    segment_index: int
    frame_index: int = Field(description="Index of the frame among the segment's sampled frames.")
    face_index: int = Field(description="Index of the face within its frame.")
    time_s: float = Field(description="Time of the frame in the media, in seconds.")
    box: list[float] = Field(description="Face box `[x1, y1, x2, y2]` in pixels of the upright frame.")
    detection_confidence: float
    probability: float = Field(description="Probability that this face is manipulated.")
    thumbnail_url: str | None = Field(None, description="The face crop (JPEG), for the most suspicious faces.")
    heatmap_url: str | None = Field(None, description="The crop with the model's heatmap overlaid (JPEG).")


class FaceList(BaseModel):
    items: list[FacePublic]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page.")


class ModelCardPublic(BaseModel):
    """The served checkpoint's model card: what it is, what it was trained on, how it measured."""

    name: str
    version: str
    sha256: str = Field(description="SHA-256 of the checkpoint file, as recorded in every result.")
    trained: bool = Field(description="False for randomly initialised weights (their verdicts mean nothing).")
    threshold: float = Field(description="Probability at or above which the verdict is `fake`.")
    architecture: str
    backbone: str | None = None
    input_size: int | None = None
    description: str = ""
    warning: str | None = Field(None, description="Shown with every result of this checkpoint, if set.")
    training: dict[str, Any] = Field(default_factory=dict, description="Training data and settings.")
    metrics: dict[str, Any] = Field(
        default_factory=dict, description="Measured metrics (F1, ROC-AUC, log loss, ...) per evaluation data set."
    )
    code_version: str
    created_at: str


class MediaTypePublic(BaseModel):
    kind: Literal["video", "image"]
    mime: str
    extensions: list[str]


class FeaturesPublic(BaseModel):
    delete_job: bool = Field(description="`DELETE /v1/jobs/{id}` is served.")
    deliveries: bool = Field(description="`GET /v1/jobs/{id}/deliveries` (webhook delivery log) is served.")


class ConfigPublic(BaseModel):
    """What a client needs to know before it signs in and uploads."""

    auth_required: bool = Field(description="Whether requests need `Authorization: Bearer <api key>`.")
    max_upload_bytes: int
    accepted_types: list[MediaTypePublic]
    poll_after_s: int = Field(description="Typical `Retry-After` while a job runs.")
    features: FeaturesPublic
