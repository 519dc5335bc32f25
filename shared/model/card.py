"""The model card of a checkpoint, readable without torch.

A checkpoint's metadata (safetensors `__metadata__["dfs"]`) is its model card: what the weights
are, how to use them (threshold), where they came from (training data, measured metrics). The
API shows it to people deciding whether to trust a verdict, and the API process stays torch-free
(it only streams uploads and reads Postgres), so the card, and how to find the configured
checkpoint, live here; `shared.model.checkpoint` adds everything that needs torch (building,
loading, saving networks) and re-exports these names.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared.config import Settings, get_settings
from shared.errors import ModelError

if TYPE_CHECKING:  # pragma: no cover
    import torch

FORMAT = "deepfakestream.checkpoint"
FORMAT_VERSION = 1
CODE_VERSION = "0.1.0"

#: SRM noise maps + RGB → EfficientNet → CNN head with global weighted average pooling.
ARCHITECTURE = "srm-efficientnet-gwap"
ARCHITECTURE_VERSION = 1
#: Plain-RGB EfficientNet + average pool + linear layer: the DFDC winning solution's
#: DeepFakeClassifier (selimsef/dfdc_deepfake_challenge), served from imported weights.
RGB_ARCHITECTURE = "rgb-efficientnet-fc"
RGB_ARCHITECTURE_VERSION = 1

BUNDLED_DIR = Path(__file__).resolve().parent / "weights"
DEMO_CHECKPOINT = BUNDLED_DIR / "demo-srm-efficientnet-b0.safetensors"


class CheckpointMeta(BaseModel):
    """The model card stored inside every checkpoint."""

    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    architecture: str = ARCHITECTURE
    architecture_version: int = ARCHITECTURE_VERSION
    name: str
    version: str
    trained: bool
    network: dict[str, Any]
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    description: str = ""
    #: shown with every result this checkpoint produces (e.g. "demonstration model")
    warning: str | None = None
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    code_version: str = CODE_VERSION
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def network_config(self) -> Any:
        """NetworkConfig or RGBNetworkConfig, by architecture (imports torch)."""
        from shared.model.checkpoint import ARCHITECTURES

        return ARCHITECTURES[self.architecture][1].from_dict(self.network)

    def build(self) -> torch.nn.Module:
        """A network of the architecture this card describes (untrained weights; imports torch)."""
        from shared.model.checkpoint import ARCHITECTURES

        return ARCHITECTURES[self.architecture][2](self.network_config)  # type: ignore[no-any-return]


def read_meta(path: Path) -> CheckpointMeta:
    """The card of a checkpoint file. Only the safetensors header is read, not the weights."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as fh:
            raw = (fh.metadata() or {}).get("dfs")
    except Exception as exc:
        raise ModelError(f"{path.name} is not a readable safetensors checkpoint: {exc}") from exc
    if raw is None:
        raise ModelError(f"{path.name} has no DeepfakeStream metadata (is it a checkpoint made by this project?)")
    try:
        return CheckpointMeta.model_validate(json.loads(raw))
    except Exception as exc:
        raise ModelError(f"{path.name} has invalid metadata: {exc}") from exc


_fetch_lock = threading.Lock()


def resolve_checkpoint(ref: str | None, settings: Settings | None = None) -> Path:
    """A local path for a checkpoint reference: a path, an `s3://bucket/key` URI, or None for the demo."""
    settings = settings or get_settings()
    if not ref:
        if DEMO_CHECKPOINT.is_file():
            return DEMO_CHECKPOINT
        raise ModelError(
            "no checkpoint configured and the bundled demo checkpoint is missing: set DFS_CHECKPOINT "
            "(a path or s3:// URI), or create an untrained one with `deepfakestream model init`"
        )
    if ref.startswith("s3://"):
        return _fetch_s3_checkpoint(ref, settings)
    path = Path(ref).expanduser()
    if not path.is_file():
        raise ModelError(f"checkpoint {ref} does not exist")
    return path


def _fetch_s3_checkpoint(uri: str, settings: Settings) -> Path:
    from minio import Minio

    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise ModelError(f"checkpoint URI {uri} must look like s3://bucket/key")
    if not settings.s3_endpoint:
        raise ModelError(f"checkpoint {uri} is on S3 but DFS_S3_ENDPOINT is not set")
    client = Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )
    try:
        stat = client.stat_object(bucket, key)
    except Exception as exc:
        raise ModelError(f"checkpoint {uri} cannot be read: {exc}") from exc
    etag = (stat.etag or "noetag").strip('"')
    target = settings.resolved_model_cache_dir / bucket / f"{etag}-{Path(key).name}"
    with _fetch_lock:
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".part")
            try:
                client.fget_object(bucket, key, str(tmp))
            except Exception as exc:
                raise ModelError(f"checkpoint {uri} could not be downloaded: {exc}") from exc
            tmp.replace(target)
    return target


class ServedCard(BaseModel):
    """The configured checkpoint's card with the identity every result records."""

    meta: CheckpointMeta
    sha256: str


_card_cache: dict[tuple[str, int, int], ServedCard] = {}
_card_lock = threading.Lock()


def served_card(settings: Settings | None = None) -> ServedCard:
    """The card of the configured checkpoint (DFS_CHECKPOINT), cached per file version.

    Hashing a checkpoint reads the whole file, so the result is kept while the file's path,
    size and modification time stay the same (an S3 checkpoint is cached under its ETag).
    """
    from shared.storage import sha256_file

    settings = settings or get_settings()
    path = resolve_checkpoint(settings.checkpoint, settings)
    try:
        st = path.stat()
    except OSError as exc:
        raise ModelError(f"checkpoint {path} cannot be read: {exc}") from exc
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _card_lock:
        card = _card_cache.get(key)
        if card is None:
            card = ServedCard(meta=read_meta(path), sha256=sha256_file(path))
            _card_cache.clear()
            _card_cache[key] = card
    return card
