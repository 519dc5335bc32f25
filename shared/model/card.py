"""The model card of a checkpoint, readable without torch.

A checkpoint's metadata (safetensors `__metadata__["dfs"]`) is its model card: what the weights
are, how to use them (threshold), where they came from (training data, measured metrics). The
API shows it to people deciding whether to trust a verdict, and the API process stays torch-free
(it only streams uploads and reads Postgres), so the card, and how to find the configured
checkpoint(s), live here: `parse_checkpoint_setting` + `resolve_checkpoint` are the one resolver
of DFS_CHECKPOINT, used by the workers' classifier, `/v1/model` and `deepfakestream model info`
alike. `shared.model.checkpoint` adds everything that needs torch (building, loading, saving
networks); architecture names and configs come from `shared.model.architectures`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from shared.config import Settings, get_settings
from shared.errors import ModelError
from shared.model.architectures import ARCHITECTURE, ARCHITECTURE_VERSION, ARCHITECTURES
from shared.model.preprocessing import (
    AGGREGATION_MEAN,
    AGGREGATIONS,
    DEFAULT_PRECISION,
    Aggregation,
    CropSpec,
    Precision,
)

FORMAT = "deepfakestream.checkpoint"
FORMAT_VERSION = 1
CODE_VERSION = "0.1.0"

BUNDLED_DIR = Path(__file__).resolve().parent / "weights"
BUNDLED_CHECKPOINT = BUNDLED_DIR / "srm-efficientnet-lite0.safetensors"


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
    #: how face probabilities become a segment's and a video's (`shared.model.preprocessing`)
    aggregation: Aggregation = AGGREGATION_MEAN
    #: autocast dtype of the backbone when served on CUDA (CPU: fp32; SRM and logit: always fp32)
    precision: Precision = DEFAULT_PRECISION

    @property
    def network_config(self) -> Any:
        """NetworkConfig or RGBNetworkConfig, by architecture (torch-free)."""
        return ARCHITECTURES[self.architecture].config.from_dict(self.network)

    @property
    def crop(self) -> CropSpec:
        """How the pipeline cuts faces for this network: geometry, margin, size."""
        return self.network_config.crop  # type: ignore[no-any-return]

    def serving_policy(self) -> dict[str, Any]:
        """What `model info` and `/v1/model` show of how this checkpoint is served."""
        return {
            "crop": self.crop.to_public(),
            "srm_clip": (self.network.get("srm") or {}).get("clip")
            if self.architecture == ARCHITECTURE
            else None,
            "aggregation": self.aggregation,
            "aggregation_rule": AGGREGATIONS[self.aggregation],
            "precision": {
                "cuda_backbone": self.precision,
                "cpu": "fp32",
                "fp32_always": ["srm filters", "head pooling and logit", "sigmoid"],
            },
        }


def read_meta(path: Path) -> CheckpointMeta:
    """The card of a checkpoint file. Only the safetensors header is read, not the weights."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as fh:
            raw = (fh.metadata() or {}).get("dfs")
    except Exception as exc:
        raise ModelError(f"{path.name} is not a readable safetensors checkpoint: {exc}") from exc
    if raw is None:
        raise ModelError(
            f"{path.name} has no DeepfakeStream metadata (is it a checkpoint made by this project?)"
        )
    try:
        return CheckpointMeta.model_validate(json.loads(raw))
    except Exception as exc:
        raise ModelError(f"{path.name} has invalid metadata: {exc}") from exc


# --- which checkpoint(s) the setting names ------------------------------------------------


@dataclass(frozen=True)
class CheckpointSpec:
    """What `DFS_CHECKPOINT` names: one checkpoint reference (a path, an s3:// URI, or None
    for the bundled checkpoint) or several (an ensemble), with an ensemble's own name, version and
    threshold when its manifest gives them."""

    members: tuple[str | None, ...]
    name: str | None = None
    version: str | None = None
    threshold: float | None = None

    @property
    def is_ensemble(self) -> bool:
        return len(self.members) > 1


def parse_checkpoint_setting(value: str | None) -> CheckpointSpec:
    """`DFS_CHECKPOINT` (a reference, a comma list, or an ensemble manifest `.json`:
    {"name": "...", "version": "...", "threshold": 0.5, "members": ["a.safetensors", "s3://b/c"]})
    → a CheckpointSpec. Members of a manifest are relative to the manifest's folder."""
    if not value or not value.strip():
        return CheckpointSpec(members=(None,))
    value = value.strip()
    if value.endswith(".json") and not value.startswith("s3://"):
        path = Path(value).expanduser()
        try:
            manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"ensemble manifest {value} is unreadable: {exc}") from exc
        members = manifest.get("members") if isinstance(manifest, dict) else None
        if not isinstance(members, list) or not members:
            raise ModelError(f"ensemble manifest {value} has no `members` list")
        base = path.resolve().parent
        resolved = tuple(m if str(m).startswith("s3://") else str((base / str(m)).resolve()) for m in members)
        threshold = manifest.get("threshold")
        return CheckpointSpec(
            members=resolved,
            name=manifest.get("name"),
            version=manifest.get("version"),
            threshold=None if threshold is None else float(threshold),
        )
    return CheckpointSpec(members=tuple(m.strip() for m in value.split(",") if m.strip()) or (None,))


_fetch_lock = threading.Lock()


def resolve_checkpoint(ref: str | None, settings: Settings | None = None) -> Path:
    """A local path for one checkpoint reference: a path, an `s3://bucket/key` URI (fetched
    into the model cache once per ETag), or None for the bundled checkpoint."""
    settings = settings or get_settings()
    if not ref:
        if BUNDLED_CHECKPOINT.is_file():
            return BUNDLED_CHECKPOINT
        raise ModelError(
            "no checkpoint configured and the bundled checkpoint is missing: set DFS_CHECKPOINT "
            "(a path or s3:// URI), or create an untrained one with `deepfakestream model init`"
        )
    if ref.startswith("s3://"):
        return _fetch_s3_checkpoint(ref, settings)
    path = Path(ref).expanduser()
    if not path.is_file():
        raise ModelError(f"checkpoint {ref} does not exist")
    return path


def _fetch_s3_checkpoint(uri: str, settings: Settings) -> Path:
    """Download through the project's object store (its bucket set to the URI's)."""
    from shared.errors import NotFound, StorageUnavailable
    from shared.storage import get_store

    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise ModelError(f"checkpoint URI {uri} must look like s3://bucket/key")
    if not settings.s3_endpoint:
        raise ModelError(f"checkpoint {uri} is on S3 but DFS_S3_ENDPOINT is not set")
    store = get_store(settings.model_copy(update={"s3_bucket": bucket}))
    try:
        info = store.stat(key)
    except (NotFound, StorageUnavailable, ValueError) as exc:
        raise ModelError(f"checkpoint {uri} cannot be read: {exc}") from exc
    etag = (info.etag or "noetag").strip('"')
    target = settings.resolved_model_cache_dir / bucket / f"{etag}-{Path(key).name}"
    with _fetch_lock:
        if not target.is_file():
            tmp = target.with_suffix(".part")
            try:
                store.get_file(key, tmp)
            except (NotFound, StorageUnavailable) as exc:
                raise ModelError(f"checkpoint {uri} could not be downloaded: {exc}") from exc
            tmp.replace(target)
    return target


# --- cards of what is served ----------------------------------------------------------------


class CheckpointCard(BaseModel):
    """One checkpoint file's card, where it was found, and the sha256 results record."""

    path: Path
    meta: CheckpointMeta
    sha256: str


class ServedCard(BaseModel):
    """The card of what DFS_CHECKPOINT serves, with the identity every result records: one
    checkpoint's own card, or an ensemble's card (see `ensemble_meta`) and its members'."""

    meta: CheckpointMeta
    sha256: str
    #: every checkpoint file served: the one, or an ensemble's members in order
    files: list[CheckpointCard]

    @property
    def is_ensemble(self) -> bool:
        return len(self.files) > 1

    @property
    def members(self) -> list[CheckpointCard]:
        """An ensemble's members; empty for a single checkpoint."""
        return self.files if self.is_ensemble else []

    def serving_policy(self) -> dict[str, Any]:
        """How faces are cut, scores combined and the backbone run: the checkpoint's
        `CheckpointMeta.serving_policy`; an ensemble's names the distinct crops its members
        are cut (`crops`, each face cut once per kind) and each member's precision."""
        if not self.is_ensemble:
            policy = self.files[0].meta.serving_policy()
            return policy | {"crops": [policy["crop"]]}
        policy = self.meta.serving_policy()
        crops = list(dict.fromkeys(f.meta.crop for f in self.files))
        policy["crop"] = crops[0].to_public() if len(crops) == 1 else None
        policy["crops"] = [c.to_public() for c in crops]
        policy["precision"]["cuda_backbone"] = (
            self.files[0].meta.precision if len({f.meta.precision for f in self.files}) == 1 else "per member"
        )
        return policy


def ensemble_sha256(member_sha256s: list[str]) -> str:
    """An ensemble's identity hash: it changes when any member's file changes."""
    return hashlib.sha256("".join(member_sha256s).encode()).hexdigest()


def ensemble_meta(
    members: list[tuple[CheckpointMeta, str]],
    *,
    name: str | None = None,
    version: str | None = None,
    threshold: float | None = None,
) -> CheckpointMeta:
    """The card an ensemble of (member card, member sha256) is served under: the manifest's
    name, version and threshold when given, else made from the members' (threshold: their mean)."""
    metas = [m for m, _ in members]
    first = metas[0]
    aggregations = {m.aggregation for m in metas}
    if len(aggregations) > 1:
        raise ModelError(
            "the members of an ensemble must aggregate faces the same way; these use "
            + ", ".join(sorted(aggregations))
        )
    return CheckpointMeta(
        name=name or "ensemble(" + "+".join(m.name for m in metas) + ")",
        version=version or "+".join(m.version for m in metas),
        trained=all(m.trained for m in metas),
        network=first.network,
        architecture=first.architecture,
        architecture_version=first.architecture_version,
        threshold=threshold if threshold is not None else sum(m.threshold for m in metas) / len(metas),
        description="Mean of the probabilities of: "
        + "; ".join(f"{m.name} {m.version} (sha256 {sha[:12]})" for m, sha in members),
        warning=next((m.warning for m in metas if m.warning), None),
        metrics={"members": {f"{m.name} {m.version}": m.metrics for m in metas}},
        aggregation=first.aggregation,
        precision=first.precision,
    )


_file_cards: dict[tuple[str, int, int], CheckpointCard] = {}
_card_lock = threading.Lock()
_MAX_CACHED_CARDS = 16


def checkpoint_card(path: Path) -> CheckpointCard:
    """A checkpoint file's card and sha256, cached per file version: hashing reads the whole
    file, so the result is kept while the path, size and modification time stay the same
    (an S3 checkpoint's cached copy is named by its ETag)."""
    from shared.storage import sha256_file

    try:
        st = path.stat()
    except OSError as exc:
        raise ModelError(f"checkpoint {path} cannot be read: {exc}") from exc
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _card_lock:
        card = _file_cards.get(key)
        if card is None:
            card = CheckpointCard(path=path, meta=read_meta(path), sha256=sha256_file(path))
            for old in [k for k in _file_cards if k[0] == key[0]]:
                del _file_cards[old]
            while len(_file_cards) >= _MAX_CACHED_CARDS:
                del _file_cards[next(iter(_file_cards))]
            _file_cards[key] = card
    return card


def read_card(value: str | None, settings: Settings | None = None) -> ServedCard:
    """The card of a checkpoint setting (`DFS_CHECKPOINT` syntax: one reference, a comma list
    or an ensemble manifest), resolved exactly as the workers' classifier resolves it."""
    settings = settings or get_settings()
    spec = parse_checkpoint_setting(value)
    files = [checkpoint_card(resolve_checkpoint(ref, settings)) for ref in spec.members]
    if not spec.is_ensemble:
        return ServedCard(meta=files[0].meta, sha256=files[0].sha256, files=files)
    meta = ensemble_meta(
        [(f.meta, f.sha256) for f in files], name=spec.name, version=spec.version, threshold=spec.threshold
    )
    return ServedCard(meta=meta, sha256=ensemble_sha256([f.sha256 for f in files]), files=files)


def served_card(settings: Settings | None = None) -> ServedCard:
    """The card of the configured checkpoint(s) (DFS_CHECKPOINT)."""
    settings = settings or get_settings()
    return read_card(settings.checkpoint, settings)
