"""Request and response shapes that belong to the HTTP API alone (published at /v1/openapi.json). The
job and delivery documents are domain models: `shared/jobs/schemas.py`, `shared/webhooks/schemas.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


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


class JobFromUpload(BaseModel):
    """POST /v1/jobs with `Content-Type: application/json`: start a job from a presigned upload."""

    model_config = {"extra": "forbid"}

    upload_id: str = Field(
        min_length=1, max_length=26, description="From POST /v1/uploads, after the PUT finished."
    )
    callback_url: str | None = Field(None, max_length=2048, description="Where job.* webhooks are sent.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Your own JSON object, at most 4 KB.")


class UploadCreate(BaseModel):
    model_config = {"extra": "forbid"}

    filename: str | None = Field(None, max_length=255, description="Shown as the job's media.filename.")
    size_bytes: int | None = Field(
        None,
        gt=0,
        description="The file's size if known: it becomes the upload's cap (default: the server's limit).",
    )


class UploadPublic(BaseModel):
    upload_id: str
    method: Literal["PUT"] = "PUT"
    url: str = Field(description="Presigned URL: PUT the file's bytes here before `expires_at`.")
    expires_at: datetime
    max_bytes: int = Field(description="Larger uploads are refused (413) when the job is created.")


class RedeliverRequest(BaseModel):
    model_config = {"extra": "forbid"}

    delivery_id: str | None = Field(None, description="Only this delivery (default: every event of the job).")


# --- evidence, model card and console configuration ----------------------------------------


class ModelMemberPublic(BaseModel):
    """One checkpoint of an ensemble."""

    name: str
    version: str
    sha256: str = Field(description="SHA-256 of this member's checkpoint file.")
    trained: bool
    threshold: float
    architecture: str
    backbone: str | None = None
    input_size: int | None = None
    serving: dict[str, Any] = Field(default_factory=dict, description="This member's serving policy.")


SERVING_DESCRIPTION = (
    "How the checkpoint is served, from its card: `crop` (geometry `square` or `dfdc-rect`, margin around the"
    " detector's box, size in pixels; null for an ensemble whose members cut differently), `crops` (every"
    " distinct crop cut of each face), `aggregation` (`mean` or `confident`) with its rule, and `precision`"
    " (the backbone's autocast dtype on CUDA; CPU serves fp32; the SRM filters, the logit and the sigmoid are"
    " always fp32)."
)


class ModelCardPublic(BaseModel):
    """The served checkpoint's model card: what it is, what it was trained on, how it measured.
    For an ensemble (several checkpoints whose probabilities are averaged) it is the ensemble's
    card and `members` lists its checkpoints."""

    name: str
    version: str
    sha256: str = Field(
        description="SHA-256 of the checkpoint file (of an ensemble: of its members' hashes), as recorded in"
        " every result."
    )
    trained: bool = Field(description="False for randomly initialised weights (their verdicts mean nothing).")
    threshold: float = Field(description="Probability at or above which the verdict is `fake`.")
    architecture: str
    backbone: str | None = None
    input_size: int | None = None
    description: str = ""
    warning: str | None = Field(None, description="Shown with every result of this checkpoint, if set.")
    training: dict[str, Any] = Field(default_factory=dict, description="Training data and settings.")
    metrics: dict[str, Any] = Field(
        default_factory=dict,
        description="Measured metrics (F1, ROC-AUC, log loss, ...) per evaluation data set.",
    )
    code_version: str
    created_at: str
    serving: dict[str, Any] = Field(default_factory=dict, description=SERVING_DESCRIPTION)
    members: list[ModelMemberPublic] = Field(
        default_factory=list,
        description="The checkpoints of an ensemble, in order; empty for a single checkpoint.",
    )


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
