"""Stand-ins for the two models the pipeline calls, so stage tests need no weights.

Both are duck-typed: the classifier implements `shared.model.classifier.Classifier`; the
detector has only what the pipeline calls on a face detector, `predict(frames)` returning
one list per frame of objects with `box` and `confidence`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from shared.model.checkpoint import CheckpointMeta
from shared.model.classifier import Scores
from shared.model.preprocessing import CROP_SQUARE, CropSpec
from shared.types import ModelIdentity

HEATMAP = (7, 7)


@dataclass(frozen=True)
class FakeDetection:
    box: tuple[float, float, float, float]
    confidence: float


@dataclass
class FakeDetector:
    """Finds the faces it was told about: `faces[i]` are the (box, confidence) pairs of the
    i-th frame of a call (frames beyond the list have none). Records the shapes of the frames
    of each call."""

    faces: list[list[tuple[tuple[float, float, float, float], float]]] = field(default_factory=list)
    calls: list[list[tuple[int, ...]]] = field(default_factory=list)

    def predict(self, frames: list[np.ndarray]) -> list[list[FakeDetection]]:
        self.calls.append([f.shape for f in frames])
        return [
            [FakeDetection(box, conf) for box, conf in (self.faces[i] if i < len(self.faces) else [])]
            for i in range(len(frames))
        ]


@dataclass
class FakeClassifier:
    """Scores a crop by its mean brightness (0 black … 1 white), in the batches it is given;
    records each batch's size."""

    input_size: int = 32
    face_margin: float = 0.0
    threshold: float = 0.5
    aggregation: str = "mean"
    batch_size: int = 4
    batches: list[int] = field(default_factory=list)

    @property
    def identity(self) -> ModelIdentity:
        return ModelIdentity(name="fake", version="1", sha256="f" * 64)

    @property
    def meta(self) -> CheckpointMeta:
        raise NotImplementedError("the stages under test do not read the model card")

    @property
    def crop_specs(self) -> tuple[CropSpec, ...]:
        return (CropSpec(CROP_SQUARE, self.face_margin, self.input_size),)

    def predict_views(self, views: Mapping[CropSpec, np.ndarray]) -> Scores:
        probs, heat = self.predict(views[self.crop_specs[0]])
        return Scores(probs, heat, probs[None])

    def predict(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert inputs.ndim == 4 and inputs.shape[1:] == (self.input_size, self.input_size, 3)
        assert inputs.dtype == np.uint8
        self.batches.append(len(inputs))
        probs = inputs.reshape(len(inputs), -1).mean(axis=1).astype(np.float32) / 255.0
        heat = np.broadcast_to(probs[:, None, None], (len(inputs), *HEATMAP)).astype(np.float32)
        return probs, heat
