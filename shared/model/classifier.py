"""Face-crop classifiers: the served form of a checkpoint, or of an ensemble of checkpoints.

`DFS_CHECKPOINT` may name one checkpoint (a path or an s3:// URI), several separated by
commas (an ensemble whose threshold is the mean of theirs), or an ensemble manifest `.json`:
{"name": "...", "version": "...", "threshold": 0.5, "members": ["a.safetensors", "s3://b/c"]}.
The setting is parsed and resolved by `shared.model.card` (torch-free), the same way the
API's model card reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from shared.config import Settings, get_settings
from shared.errors import ModelError
from shared.model.base import InferenceModel, model_cache
from shared.model.card import CheckpointMeta, ensemble_meta, ensemble_sha256, parse_checkpoint_setting
from shared.model.checkpoint import LoadedCheckpoint, load_checkpoint
from shared.model.network import forward
from shared.model.preprocessing import CropSpec
from shared.types import ModelIdentity


class Classifier(Protocol):
    """What the pipeline needs from a model."""

    @property
    def identity(self) -> ModelIdentity: ...
    @property
    def meta(self) -> CheckpointMeta: ...
    @property
    def input_size(self) -> int: ...
    @property
    def threshold(self) -> float: ...
    @property
    def face_margin(self) -> float: ...
    @property
    def aggregation(self) -> str: ...
    @property
    def crop_specs(self) -> tuple[CropSpec, ...]:
        """The distinct crops the model needs of every face (an ensemble: one per kind its
        members want; members that share a geometry, margin and size share their crops)."""
        ...

    def predict(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
    def predict_views(self, views: Mapping[CropSpec, np.ndarray]) -> Scores:
        """Scores of N faces, given each face cut every way `crop_specs` names."""
        ...


class Scores(NamedTuple):
    """What `predict_views` gives for N faces. A single checkpoint is an ensemble of one."""

    probabilities: np.ndarray  # N
    heatmaps: np.ndarray  # N×h×w
    members: np.ndarray  # M×N: each member's probabilities


def resize_crops(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size:
        return x
    return F.interpolate(
        x, size=(size, size), mode="bilinear", antialias=x.shape[-1] > size, align_corners=False
    )


class FaceClassifier(InferenceModel[np.ndarray, tuple[np.ndarray, np.ndarray]]):
    """uint8 crops N×S×S×3 → (probabilities N, heatmaps N×h×w), in batches.

    Crops of another size than the checkpoint's input are resized. On CUDA the forward pass
    runs in bf16 autocast with channels_last memory layout.
    """

    def __init__(
        self,
        checkpoint: str | None,
        device: str = "cpu",
        batch_size: int = 64,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(device)
        self.checkpoint_ref = checkpoint
        self.batch_size = batch_size
        self.settings = settings or get_settings()
        self._ckpt: LoadedCheckpoint | None = None

    def _load(self) -> None:
        self._ckpt = load_checkpoint(self.checkpoint_ref, self.settings, device=self.device)
        if self.device.startswith("cuda"):
            self._ckpt.model.to(memory_format=torch.channels_last)

    @property
    def checkpoint(self) -> LoadedCheckpoint:
        self.load()
        assert self._ckpt is not None
        return self._ckpt

    @property
    def identity(self) -> ModelIdentity:
        return self.checkpoint.identity

    @property
    def meta(self) -> CheckpointMeta:
        return self.checkpoint.meta

    @property
    def input_size(self) -> int:
        return int(self.checkpoint.meta.network_config.input_size)

    @property
    def threshold(self) -> float:
        return self.checkpoint.meta.threshold

    @property
    def face_margin(self) -> float:
        return float(self.checkpoint.meta.network_config.face_margin)

    @property
    def aggregation(self) -> str:
        return self.checkpoint.meta.aggregation

    @property
    def crop_spec(self) -> CropSpec:
        return self.checkpoint.meta.crop

    @property
    def crop_specs(self) -> tuple[CropSpec, ...]:
        return (self.crop_spec,)

    @property
    def precision(self) -> str:
        """The backbone's autocast dtype: the card's on CUDA, fp32 elsewhere."""
        return self.checkpoint.meta.precision if self.device.startswith("cuda") else "fp32"

    def predict_views(self, views: Mapping[CropSpec, np.ndarray]) -> Scores:
        probs, heats = self.predict(views[self.crop_spec])
        return Scores(probs, heats, probs[None])

    def _predict(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        model = self.checkpoint.model
        if len(crops) == 0:
            return np.zeros(0, np.float32), np.zeros((0, 1, 1), np.float32)
        probs: list[np.ndarray] = []
        heats: list[np.ndarray] = []
        for start in range(0, len(crops), self.batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(crops[start : start + self.batch_size]))
            x = resize_crops(
                batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0),
                self.input_size,
            )
            logit, heat = forward(model, x, self.device, precision=self.precision)
            if self.precision == "fp16" and not bool(torch.isfinite(logit).all()):
                logit, heat = forward(model, x, self.device, precision="fp32")  # an fp16 overflow
            probs.append(torch.sigmoid(logit.float()).cpu().numpy())
            heats.append(heat.float().cpu().numpy())
        return np.concatenate(probs), np.concatenate(heats)


class EnsembleClassifier(InferenceModel[np.ndarray, tuple[np.ndarray, np.ndarray]]):
    """The mean of its members' probabilities, served as one model.

    Each member is fed the crops its own card asks for (geometry, margin, size: `crop_specs`
    lists the distinct ones, so members that agree share one set of crops); heatmaps are
    averaged on the first member's grid. The identity's sha256 covers every member's.
    """

    def __init__(
        self,
        members: list[FaceClassifier],
        *,
        name: str | None = None,
        version: str | None = None,
        threshold: float | None = None,
    ) -> None:
        super().__init__(members[0].device if members else "cpu")
        if len(members) < 2:
            raise ModelError("an ensemble needs at least two checkpoints")
        self.members = members
        self._name, self._version, self._threshold = name, version, threshold
        self._meta: CheckpointMeta | None = None

    def _load(self) -> None:
        for m in self.members:
            m.load()
        self._meta = ensemble_meta(
            [(m.meta, m.identity.sha256) for m in self.members],
            name=self._name,
            version=self._version,
            threshold=self._threshold,
        )

    @property
    def meta(self) -> CheckpointMeta:
        self.load()
        assert self._meta is not None
        return self._meta

    @property
    def identity(self) -> ModelIdentity:
        digest = ensemble_sha256([m.identity.sha256 for m in self.members])
        return ModelIdentity(name=self.meta.name, version=self.meta.version, sha256=digest)

    @property
    def input_size(self) -> int:
        return max(m.input_size for m in self.members)

    @property
    def threshold(self) -> float:
        return self.meta.threshold

    @property
    def face_margin(self) -> float:
        return self.members[0].face_margin

    @property
    def aggregation(self) -> str:
        return self.meta.aggregation

    @property
    def crop_specs(self) -> tuple[CropSpec, ...]:
        return tuple(dict.fromkeys(m.crop_spec for m in self.members))

    def predict_views(self, views: Mapping[CropSpec, np.ndarray]) -> Scores:
        self.load()
        with torch.inference_mode():
            outs = [m.predict(views[m.crop_spec]) for m in self.members]
        probs, heats = self._combine(outs)
        return Scores(probs, heats, np.stack([p for p, _ in outs]).astype(np.float32))

    def _predict(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All members on the same crops (each resizes them to its input size): only for members
        that cut faces with the same geometry and margin."""
        if len({(c.geometry, c.margin) for c in self.crop_specs}) > 1:
            raise ModelError(
                "the members of this ensemble cut faces differently "
                f"({', '.join(str(c.to_public()) for c in self.crop_specs)}): use predict_views"
            )
        return self._combine([m.predict(crops) for m in self.members])

    @staticmethod
    def _combine(outs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        probs = np.mean([p for p, _ in outs], axis=0)
        target = outs[0][1].shape[1:]
        heats = []
        for _, h in outs:
            t = torch.from_numpy(h)[:, None]
            if tuple(h.shape[1:]) != tuple(target):
                t = F.interpolate(t, size=target, mode="bilinear", align_corners=False)
            heats.append(t[:, 0].numpy())
        return probs.astype(np.float32), np.mean(heats, axis=0).astype(np.float32)


def build_classifier(settings: Settings) -> FaceClassifier | EnsembleClassifier:
    spec = parse_checkpoint_setting(settings.checkpoint)
    device = settings.torch_device()
    members = [FaceClassifier(ref, device, settings.score_batch_size, settings) for ref in spec.members]
    if not spec.is_ensemble:
        return members[0]
    return EnsembleClassifier(members, name=spec.name, version=spec.version, threshold=spec.threshold)


def get_classifier(settings: Settings | None = None) -> FaceClassifier | EnsembleClassifier:
    """The process-wide classifier for the configured checkpoint(s) and device."""
    settings = settings or get_settings()
    key = ("classifier", settings.checkpoint, settings.torch_device(), settings.score_batch_size)
    return model_cache.get(key, lambda: build_classifier(settings))
