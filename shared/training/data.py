"""Torch datasets over extracted face crops, with self-blended pseudo-fakes and augmentation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from shared.training.augment import AugmentConfig, augment
from shared.training.datasets import FAKE, REAL
from shared.training.datasets.selfblend import BlendConfig, self_blend
from shared.training.extract import FaceRecord


class FaceCrops(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Items are (float crop 3×S×S in [0, 1], label).

    With `selfblend`, every real crop also appears as a pseudo-fake (label 1), blended anew
    each time in training and deterministically (seeded by index) in evaluation, so real
    and fake classes are balanced by construction.
    """

    def __init__(
        self,
        records: list[FaceRecord],
        root: Path,
        *,
        input_size: int,
        selfblend: bool = False,
        augment_cfg: AugmentConfig | None = None,
        train: bool = True,
        margin: float = 0.3,
        seed: int = 0,
        blend_cfg: BlendConfig | None = None,
    ) -> None:
        self.root = root
        self.input_size = input_size
        self.augment_cfg = augment_cfg or AugmentConfig.none()
        self.train = train
        self.margin = margin
        self.seed = seed
        self.blend_cfg = blend_cfg or BlendConfig()
        self.items: list[tuple[FaceRecord, bool, int]] = [(r, False, r.label) for r in records]
        if selfblend:
            self.items += [(r, True, FAKE) for r in records if r.label == REAL]
        self._cache: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.items)

    @property
    def labels(self) -> list[int]:
        return [label for _, _, label in self.items]

    def _load(self, rel: str) -> np.ndarray:
        crop = self._cache.get(rel)
        if crop is None:
            with Image.open(self.root / rel) as img:
                crop = np.asarray(img.convert("RGB"))
            if len(self._cache) < 20000:
                self._cache[rel] = crop
        return crop

    def _rng(self, index: int) -> np.random.Generator:
        if self.train:
            return np.random.default_rng()
        digest = hashlib.sha256(f"{self.seed}:{index}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "big"))

    def raw(self, index: int) -> tuple[np.ndarray, int]:
        """The uint8 crop (after blending and augmentation) and its label."""
        record, blended, label = self.items[index]
        rng = self._rng(index)
        crop = self._load(record.path)
        if blended:
            crop, _ = self_blend(crop, rng, margin=self.margin, cfg=self.blend_cfg)
        if self.train:
            crop = augment(crop, rng, self.augment_cfg)
        if crop.shape[0] != self.input_size:
            crop = np.asarray(
                Image.fromarray(crop).resize((self.input_size, self.input_size), Image.Resampling.BILINEAR)
            )
        return crop, label

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        crop, label = self.raw(index)
        x = torch.from_numpy(np.array(crop, copy=True)).permute(2, 0, 1).float().div_(255.0)
        return x, torch.tensor(float(label))
