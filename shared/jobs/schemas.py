"""The public shape of a job: the API's answers, the webhook payloads and the client read
the same models (published at /v1/openapi.json). Add a field here, in the row and in `job_public`."""

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
    deleted_at: datetime | None = Field(
        None, description="When the media was deleted (cancel, DELETE, or retention); the result stays."
    )


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
    probability: float | None = Field(
        None, description="Probability that the media is manipulated; null for no_face."
    )
    threshold: float
    aggregation: str = Field(
        "mean",
        description="How face probabilities became the media's, as the model's card says: `mean` (segment ="
        " mean of its faces, media = mean of its segments) or `confident` (the DFDC winner's confident"
        " strategy over all faces).",
    )
    model: ModelPublic
    segments: list[SegmentPublic]
    faces_scored: int
    warning: str | None = None


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


class FacePublic(BaseModel):
    segment_index: int
    frame_index: int = Field(description="Index of the frame among the segment's sampled frames.")
    face_index: int = Field(description="Index of the face within its frame.")
    time_s: float = Field(description="Time of the frame in the media, in seconds.")
    box: list[float] = Field(description="Face box `[x1, y1, x2, y2]` in pixels of the upright frame.")
    detection_confidence: float
    probability: float = Field(description="Probability that this face is manipulated.")
    thumbnail_url: str | None = Field(
        None, description="The face crop (JPEG), for the most suspicious faces."
    )
    heatmap_url: str | None = Field(None, description="The crop with the model's heatmap overlaid (JPEG).")


class FaceList(BaseModel):
    items: list[FacePublic]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page.")
