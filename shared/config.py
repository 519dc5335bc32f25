"""The one configuration object of DeepfakeStream.

Every process (API, workers, CLI) reads the same `Settings`, from environment variables
prefixed `DFS_` (nested fields with `__`, e.g. `DFS_MTCNN__MIN_FACE_SIZE=40`) or an `.env`
file. The embedded defaults need no server at all: SQLite, a local folder as object store,
kombu's filesystem transport as broker, the CPU, auth off. Production overrides them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "deepfakestream"


class MTCNNSettings(BaseModel):
    """Face detector knobs (facenet-pytorch MTCNN)."""

    min_face_size: int = Field(
        64,
        ge=12,
        description="Smallest face searched for, in pixels of the original frame (smaller faces are too"
        " coarse for the classifier anyway; lowering it slows detection).",
    )
    thresholds: tuple[float, float, float] = Field(
        (0.6, 0.7, 0.7), description="P-, R- and O-net thresholds."
    )
    factor: float = Field(0.709, gt=0.1, lt=1.0, description="Image pyramid scale step.")
    detect_scale: float = Field(
        0.5,
        gt=0.05,
        le=1.0,
        description="Frames are resized by this factor before detection; boxes are mapped back.",
    )
    min_confidence: float = Field(
        0.95, ge=0.0, le=1.0, description="Faces below this MTCNN probability are dropped."
    )
    max_faces_per_frame: int = Field(4, ge=1, description="Largest N faces kept per frame.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DFS_", env_nested_delimiter="__", env_file=".env", extra="ignore", populate_by_name=True
    )

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir, description="Root for embedded defaults.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite file in data_dir.")
    broker_url: str | None = Field(
        None, description="Celery broker; default kombu filesystem transport in data_dir."
    )

    # object storage: local folder unless s3_endpoint is set
    s3_endpoint: str | None = Field(
        None, description="host:port of an S3 API (MinIO); unset = local folder store."
    )
    s3_access_key: str | None = Field(None, description="S3 access key.")
    s3_secret_key: str | None = Field(None, description="S3 secret key.")
    s3_bucket: str = Field(
        "deepfakestream", description="Bucket for uploads, segments and artifacts (created if absent)."
    )
    s3_region: str | None = Field(None, description="S3 region, if the server needs one.")
    s3_secure: bool = Field(False, description="Use HTTPS to reach the S3 endpoint.")
    s3_part_size: int = Field(8 * 1024 * 1024, ge=5 * 1024 * 1024, description="Multipart upload part size.")
    s3_parallel_parts: int = Field(
        2,
        ge=1,
        le=16,
        description="Parts of one streamed upload sent at once (memory ~ 3 x parts x part size).",
    )
    s3_public_endpoint: str | None = Field(
        None,
        description="host:port clients use to reach S3, when it differs from s3_endpoint (presigned URLs are"
        " signed for this host).",
    )

    # --- compute ------------------------------------------------------------------------
    device: Literal["cpu", "cuda", "auto"] = Field(
        "cpu", description="Where models run; auto = cuda if available."
    )
    torch_threads: int | None = Field(
        None, ge=1, description="torch intra-op threads (default: torch's own)."
    )
    checkpoint: str | None = Field(
        None, description="Model checkpoint: a path or s3://bucket/key. Default: the bundled checkpoint."
    )
    model_cache_dir: Path | None = Field(None, description="Where checkpoints fetched from S3 are cached.")

    # --- pipeline -----------------------------------------------------------------------
    segment_seconds: float = Field(2.0, gt=0.1, le=600, description="Target segment length.")
    segment_mode: Literal["auto", "copy", "reencode"] = Field(
        "copy",
        description=(
            "copy: stream-copy at keyframes (no re-encode: the compressed pixels the model judges are untouched;"
            " segments follow the keyframes); reencode: even segments, costs a decode + encode and alters"
            " compression traces; auto: copy, re-encoding only when keyframes are too sparse. See docs/benchmarks.md."
        ),
    )
    frames_per_segment: int = Field(
        8, ge=1, le=256, description="Frames sampled per segment_seconds of video."
    )
    score_batch_size: int = Field(64, ge=1, description="Face crops per forward pass.")
    evidence_faces: int = Field(
        4,
        ge=0,
        le=64,
        description="Per segment, the most suspicious N faces get a thumbnail and heatmap stored.",
    )
    decode_threads: int = Field(0, ge=0, description="Decoder threads (0 = let FFmpeg choose).")
    ffmpeg_timeout_s: float = Field(
        300.0, gt=0, description="ffmpeg/ffprobe runs longer than this are killed."
    )
    max_duration_s: float = Field(3600.0, gt=0, description="Longer media are refused.")
    max_pixels: int = Field(8192 * 8192, gt=0, description="Larger frames/images are refused.")
    face_detector: str = Field(
        "mtcnn",
        description="Face detector the pipeline, extract-faces and the model builders use (mtcnn: facenet-pytorch"
        " MTCNN, tuned by the mtcnn settings).",
    )
    mtcnn: MTCNNSettings = Field(default_factory=MTCNNSettings)

    # --- provenance (C2PA Content Credentials) -------------------------------------------
    provenance_trust_anchors: Path | None = Field(
        None,
        description="PEM bundle of the C2PA trust anchors (root certificates) a signer must chain to for"
        " `trusted: true`, e.g. the C2PA trust list. Unset: signatures are checked but every signer is"
        " reported untrusted. See docs/provenance.md.",
    )
    provenance_timeout_s: float = Field(
        30.0, gt=0, description="Reading and validating one upload's manifest takes at most this long."
    )
    provenance_max_memory_mb: int = Field(
        1024, ge=128, description="Address-space limit of the process that reads an upload's manifest."
    )

    # --- API ----------------------------------------------------------------------------
    max_upload_bytes: int = Field(4 * 1024**3, gt=0, description="Larger uploads are refused (413).")
    max_metadata_bytes: int = Field(4096, gt=0, description="Largest `metadata` JSON accepted with a job.")
    auth_enabled: bool | None = Field(
        None,
        description="Require API keys (Authorization: Bearer dfs_...). Unset: on whenever the database is Postgres"
        " (a production deployment), off on the embedded SQLite default. Only an explicit `false` turns it off on"
        " Postgres, and the API then logs a warning at start.",
    )
    poll_after_s: int = Field(2, ge=1, description="Retry-After suggested while a job is unfinished.")
    idempotency_ttl_s: int = Field(24 * 3600, ge=60, description="How long an Idempotency-Key is remembered.")
    idempotency_lock_s: int = Field(
        3600,
        ge=10,
        description="An Idempotency-Key still in flight after this long is taken to be abandoned.",
    )
    upload_url_ttl_s: int = Field(
        900, ge=10, le=7 * 24 * 3600, description="Lifetime of a presigned upload URL."
    )
    rate_limit_per_minute: int = Field(
        1200,
        ge=0,
        description="Requests per minute per API key (token bucket refill); 0 disables rate limiting.",
    )
    rate_limit_burst: int = Field(
        100, ge=1, description="Token bucket size: requests a key may make at once."
    )
    max_running_jobs_per_tenant: int = Field(
        100,
        ge=0,
        description="Queued + processing jobs a tenant may have at once (0 = no cap); a tenant row may"
        " override it.",
    )

    # --- workers ------------------------------------------------------------------------
    task_max_retries: int = Field(
        8,
        ge=0,
        description="Retries of a task after a transient failure (storage, broker, database down), 2 s"
        " doubling to 60 s apart: the default rides out an outage of 2 minutes or more.",
    )
    detect_visibility_timeout_s: int = Field(
        3600,
        ge=60,
        description="Redis redelivers an unacknowledged task after this long (longer than any task).",
    )
    worker_heartbeat_file: Path | None = Field(
        None, description="Touched every few seconds by a live worker."
    )
    worker_ready_file: Path | None = Field(
        None, description="Written once a worker process has loaded its models."
    )
    worker_preload_models: bool = Field(
        False, description="Load the models at worker start (detect workers)."
    )
    reconcile_interval_s: float = Field(
        60.0, gt=0, description="How often the reconciler looks for stuck jobs."
    )
    worker_metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Serve a worker's Prometheus metrics (/metrics, all its pool processes summed) on this port; unset = off.",
    )
    reconcile_stale_after_s: float | None = Field(
        None,
        gt=0,
        description="A job with no progress (heartbeat) for this long is re-queued (default: max(60,"
        " 30 × poll_after_s)).",
    )

    # --- retention ----------------------------------------------------------------------
    media_retention_days: float = Field(
        7.0,
        gt=0,
        description="Media (upload, segments, artifacts) of finished jobs is deleted after this; results stay.",
    )
    retention_interval_s: float = Field(3600.0, gt=0, description="How often the retention sweep runs.")

    # --- webhooks -----------------------------------------------------------------------
    webhook_max_attempts: int = Field(
        12,
        ge=1,
        le=50,
        description="Tries per event before it is marked failed (defaults: about 14 h of retrying).",
    )
    webhook_backoff_base_s: float = Field(
        30.0, gt=0, description="Delay before the 2nd try; doubles each try (with ±25 % jitter)."
    )
    webhook_backoff_max_s: float = Field(
        6 * 3600.0, gt=0, description="Longest delay between tries (also caps Retry-After)."
    )
    webhook_connect_timeout_s: float = Field(5.0, gt=0, description="Connect timeout of one webhook attempt.")
    webhook_read_timeout_s: float = Field(15.0, gt=0, description="Also bounds the whole response read.")
    webhook_allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="CIDRs a callback may resolve to even though they are private/loopback/link-local (comma"
        " separated, e.g. `10.20.0.0/16`). Empty: only public addresses.",
    )
    webhook_secret_grace_s: int = Field(
        24 * 3600, ge=0, description="After a secret rotation, the previous secret also signs for this long."
    )

    # --- live streams (docs/streams.md) -------------------------------------------------
    stream_allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="CIDRs a stream URL may resolve to even though they are private/loopback/link-local (comma"
        " separated). Empty: only public addresses (the same guard as webhooks).",
    )
    stream_segment_seconds: float = Field(
        4.0, gt=0.5, le=60, description="Default segment length of a stream."
    )
    stream_max_duration_s: float = Field(
        12 * 3600.0, gt=0, description="Cap on a stream's `max_duration_s` (default per stream: 3600)."
    )
    stream_silence_timeout_s: float = Field(
        30.0,
        gt=0,
        description="A stream that delivers no segment for this long (reconnecting) ends `failed`.",
    )
    stream_reconnect_backoff_s: float = Field(
        1.0, gt=0, description="First delay before reconnecting a dropped stream; doubles up to 10x."
    )
    stream_rolling_window: int = Field(
        5,
        ge=1,
        le=1000,
        description="The rolling verdict is the mean of the last N scored segments with faces.",
    )
    stream_alert_hysteresis: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="After an alert, the rolling probability must fall this far below the threshold before"
        " another alert can fire (one alert per episode).",
    )
    stream_heartbeat_s: float = Field(
        5.0, gt=0, description="How often a live ingest touches its stream row."
    )
    stream_stale_after_s: float = Field(
        60.0,
        gt=0,
        description="A live stream whose ingest has not beaten for this long is resumed by the reconciler.",
    )
    max_live_streams_per_tenant: int = Field(
        10, ge=0, description="Connecting + live streams a tenant may have at once (0 = no cap)."
    )

    log_format: Literal["text", "json"] = Field("text", description="json in production.")
    log_level: str = Field("INFO", description="Python log level.")

    @field_validator("webhook_allowed_networks", "stream_allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, v: object) -> object:
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                import json

                return json.loads(v)
            return [part.strip() for part in v.split(",") if part.strip()]
        return v

    @field_validator("webhook_allowed_networks", "stream_allowed_networks", mode="after")
    @classmethod
    def _check_networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        for net in v:
            ipaddress.ip_network(net, strict=False)  # raises ValueError with a readable message
        return v

    @field_validator("provenance_trust_anchors", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    # --- derived values -----------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'dfs.sqlite3'}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        return self.data_dir / "broker"

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def auth_required(self) -> bool:
        """Auth is on unless explicitly switched off; the default follows the database (see auth_enabled)."""
        if self.auth_enabled is not None:
            return self.auth_enabled
        return self.resolved_database_url.startswith("postgresql")

    @property
    def is_embedded(self) -> bool:
        return self.database_url is None and self.broker_url is None and self.s3_endpoint is None

    def torch_device(self) -> str:
        if self.device == "auto":
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once. Tests call `get_settings.cache_clear()` after changing env."""
    return Settings()
