"""Face-crop classifier: the served form of a checkpoint."""

from __future__ import annotations

import numpy as np
import torch

from shared.config import Settings, get_settings
from shared.model.base import InferenceModel, model_cache
from shared.model.checkpoint import CheckpointMeta, LoadedCheckpoint, load_checkpoint
from shared.types import ModelIdentity


class FaceClassifier(InferenceModel[np.ndarray, tuple[np.ndarray, np.ndarray]]):
    """uint8 crops N×S×S×3 → (probabilities N, heatmaps N×h×w), in batches.

    On CUDA the forward pass runs in bf16 autocast with channels_last memory layout.
    """

    def __init__(self, checkpoint: str | None, device: str = "cpu", batch_size: int = 64,
                 settings: Settings | None = None) -> None:
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
        return self.checkpoint.meta.network_config.input_size

    @property
    def threshold(self) -> float:
        return self.checkpoint.meta.threshold

    def _predict(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        model = self.checkpoint.model
        if len(crops) == 0:
            return np.zeros(0, np.float32), np.zeros((0, 1, 1), np.float32)
        probs: list[np.ndarray] = []
        heats: list[np.ndarray] = []
        cuda = self.device.startswith("cuda")
        for start in range(0, len(crops), self.batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(crops[start : start + self.batch_size]))
            x = batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
            if cuda:
                x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    logit, heat = model(x)
            else:
                logit, heat = model(x)
            probs.append(torch.sigmoid(logit.float()).cpu().numpy())
            heats.append(heat.float().cpu().numpy())
        return np.concatenate(probs), np.concatenate(heats)


def get_classifier(settings: Settings | None = None) -> FaceClassifier:
    """The process-wide classifier for the configured checkpoint and device."""
    settings = settings or get_settings()
    device = settings.torch_device()
    key = ("classifier", settings.checkpoint, device, settings.score_batch_size)
    return model_cache.get(key, lambda: FaceClassifier(settings.checkpoint, device, settings.score_batch_size, settings))
