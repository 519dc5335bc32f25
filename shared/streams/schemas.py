"""The public shape of a live stream (API answers, webhook payloads, SSE data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class StreamCreate(BaseModel):
    """POST /v1/streams."""

    model_config = {"extra": "forbid"}

    url: str = Field(
        min_length=1,
        max_length=2048,
        description="rtsp://, rtmp(s)://, srt://, or http(s):// (an HLS playlist ending in .m3u8, else an MPEG-TS"
        " byte stream). Its host must resolve to public addresses unless the operator allow-lists the network.",
    )
    callback_url: str | None = Field(
        None, max_length=2048, description="Where stream.alert / stream.ended / stream.failed are sent."
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="Your own JSON object, at most 4 KB.")
    segment_seconds: float | None = Field(
        None, gt=0.5, le=60, description="Segment length (default: the server's, 4 s)."
    )
    max_duration_s: float | None = Field(
        None, gt=0, description="Stop watching after this many seconds of stream (default 3600; capped)."
    )
    alert_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Alert when the rolling probability reaches this (default: the model's).",
    )


class RollingPublic(BaseModel):
    probability: float | None = Field(
        None, description="Mean of the last window_segments scored segments with faces."
    )
    verdict: Literal["fake", "real", "no_face"]
    window_segments: int
    threshold: float


class AlertPublic(BaseModel):
    index: int = Field(description="The segment whose score opened the episode.")
    at_s: float = Field(description="End of that segment on the stream's clock.")
    probability: float
    threshold: float
    created_at: datetime


class StreamPublic(BaseModel):
    id: str
    status: Literal["connecting", "live", "ended", "failed", "stopped"]
    url: str = Field(description="The URL with credentials redacted.")
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    segment_seconds: float
    max_duration_s: float
    alert_threshold: float | None = None
    segments_done: int
    rolling: RollingPublic | None = None
    alerts: list[AlertPublic] = Field(default_factory=list)
    error: dict[str, Any] | None = Field(None, description="RFC 9457 problem, when the stream failed.")
    model: dict[str, Any] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    stop_requested: bool = False


class StreamList(BaseModel):
    items: list[StreamPublic]
    next_cursor: str | None = None


class StreamSegmentPublic(BaseModel):
    index: int
    start_s: float = Field(description="On the stream's clock (seconds since the ingest began).")
    end_s: float
    status: Literal["pending", "done", "failed"]
    probability: float | None = None
    faces: int | None = None
    frames_sampled: int | None = None
    timings: dict[str, float] | None = Field(None, description="Seconds spent decoding, detecting, scoring.")
    scored_at: datetime | None = None


class StreamSegmentList(BaseModel):
    items: list[StreamSegmentPublic]
    next_cursor: int | None = None
