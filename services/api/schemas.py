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
    probability: float | None = Field(None, description="Probability that the media is manipulated; null for no_face.")
    threshold: float
    model: ModelPublic
    segments: list[SegmentPublic]
    faces_scored: int
    warning: str | None = None


class FieldProblem(BaseModel):
    field: str | None = Field(None, description="The request field at fault (e.g. `callback_url`).")
    message: str
    in_: str | None = Field(None, alias="in", description="Where the field is: body, query, header, path.")


class ProblemPublic(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = Field(None, description="One entry per invalid field (422).")


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


class JobFromUpload(BaseModel):
    """POST /v1/jobs with `Content-Type: application/json`: start a job from a presigned upload."""

    model_config = {"extra": "forbid"}

    upload_id: str = Field(min_length=1, max_length=26, description="From POST /v1/uploads, after the PUT finished.")
    callback_url: str | None = Field(None, max_length=2048, description="Where job.* webhooks are sent.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Your own JSON object, at most 4 KB.")


class UploadCreate(BaseModel):
    model_config = {"extra": "forbid"}

    filename: str | None = Field(None, max_length=255, description="Shown as the job's media.filename.")
    size_bytes: int | None = Field(
        None, gt=0, description="The file's size if known: it becomes the upload's cap (default: the server's limit)."
    )


class UploadPublic(BaseModel):
    upload_id: str
    method: Literal["PUT"] = "PUT"
    url: str = Field(description="Presigned URL: PUT the file's bytes here before `expires_at`.")
    expires_at: datetime
    max_bytes: int = Field(description="Larger uploads are refused (413) when the job is created.")


class AttemptPublic(BaseModel):
    number: int
    started_at: datetime
    finished_at: datetime | None = None
    status_code: int | None = Field(None, description="The receiver's HTTP status; null when no response came.")
    duration_ms: int | None = None
    response_excerpt: str | None = Field(None, description="First 512 bytes of the receiver's answer.")
    error: str | None = Field(None, description="Timeout, connection error, or why the URL was refused.")


class DeliveryPublic(BaseModel):
    id: str = Field(description="The `webhook-id` header: the same on every attempt of this event.")
    type: Literal["job.completed", "job.failed", "job.cancelled"]
    url: str
    status: Literal["pending", "sending", "succeeded", "failed", "disabled"]
    max_attempts: int
    next_attempt_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptPublic]


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]


class RedeliverRequest(BaseModel):
    model_config = {"extra": "forbid"}

    delivery_id: str | None = Field(None, description="Only this delivery (default: every event of the job).")


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
