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


class SignerPublic(BaseModel):
    issuer: str | None = Field(None, description="Organisation of the signing certificate's subject.")
    common_name: str | None = Field(None, description="Common name of the signing certificate.")


class ValidationErrorPublic(BaseModel):
    code: str = Field(
        description="A C2PA validation status code (e.g. `assertion.dataHash.mismatch`), or `dfs.*` when"
        " the manifest could not be read at all (`dfs.manifestUnreadable`, `dfs.readerTimeout`,"
        " `dfs.readerFailed`, `dfs.trustListUnreadable`)."
    )
    explanation: str


class ProvenanceActionPublic(BaseModel):
    action: str | None = Field(None, description="e.g. `c2pa.created`, `c2pa.edited`.")
    digital_source_type: str | None = Field(
        None, description="IPTC digital source type the action declares, e.g. `trainedAlgorithmicMedia`."
    )
    software_agent: str | None = Field(None, description="The tool that performed the action, as declared.")
    when: str | None = None


class ProvenancePublic(BaseModel):
    """The upload's C2PA Content Credentials: what its active manifest declares and whether it
    validates. Evidence beside the model's verdict, never an input to it (docs/provenance.md)."""

    present: bool = Field(description="The media carries a C2PA manifest.")
    valid: bool = Field(
        description="The manifest's signature and hard bindings (hashes of the media) validate. False"
        " when absent or when validation failed: see validation_errors."
    )
    trusted: bool = Field(
        description="The signer chains to an anchor of the configured trust list (DFS_PROVENANCE_TRUST_ANCHORS)."
        " Always false when no trust list is configured."
    )
    validation_errors: list[ValidationErrorPublic] = Field(default_factory=list)
    signer: SignerPublic | None = None
    claim_generator: str | None = Field(None, description="The tool that wrote the manifest.")
    created_at: str | None = Field(
        None,
        description="Time-stamped signing time if the signer used a time-stamp authority, else the"
        " `when` the c2pa.created action declares.",
    )
    actions: list[ProvenanceActionPublic] = Field(default_factory=list)
    ai_generated: bool | None = Field(
        None,
        description="Declared by the manifest only: true when an action declares an AI digital source type"
        " (trainedAlgorithmicMedia, compositeWithTrainedAlgorithmicMedia), false when actions declare only"
        " other types, null when nothing is declared or there is no manifest.",
    )
    ingredients: int = Field(0, description="Ingredients (source media) the active manifest lists.")


class JobPublic(BaseModel):
    id: str
    status: Literal["queued", "processing", "completed", "failed", "cancelled"]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    media: MediaPublic
    progress: ProgressPublic
    result: ResultPublic | None = None
    provenance: ProvenancePublic | None = Field(
        None, description="C2PA Content Credentials of the upload; null until the first stage has read them."
    )
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
