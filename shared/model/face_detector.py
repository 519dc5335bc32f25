"""Face detectors: what the pipeline needs from one, the ones this code has, and the factory
that picks one by the `face_detector` setting (DFS_FACE_DETECTOR).

Adding a detector: a class taking `(settings, device)` whose `predict(frames)` returns a list
of `Detection`s per frame (subclass `InferenceModel` for the load-once lifecycle), and one
line in `FACE_DETECTORS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel

from shared.config import Settings, get_settings
from shared.errors import ModelError
from shared.model.base import InferenceModel, model_cache


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the original frame's pixels
    confidence: float


class FaceDetector(Protocol):
    """What the pipeline needs from a face detector: frames (H×W×3 uint8 RGB) → the faces of
    each frame, boxes in the frame's own pixels, largest first, at most the configured number."""

    def load(self) -> None: ...
    def predict(self, frames: list[np.ndarray]) -> list[list[Detection]]: ...


class MTCNNDetector(InferenceModel[list[np.ndarray], list[list[Detection]]]):
    """facenet-pytorch's MTCNN, weights from its wheel (no download), knobs from
    `settings.mtcnn`. Frames of the same size are detected in one batch at `detect_scale`
    resolution; boxes are mapped back to full resolution."""

    def __init__(self, settings: Settings, device: str = "cpu") -> None:
        super().__init__(device)
        self.cfg = settings.mtcnn
        self._mtcnn = None

    def _load(self) -> None:
        from facenet_pytorch import MTCNN

        self._mtcnn = MTCNN(
            keep_all=True,
            device=self.device,
            # the detector sees frames scaled by detect_scale; the setting is in original pixels
            min_face_size=max(12, round(self.cfg.min_face_size * self.cfg.detect_scale)),
            thresholds=list(self.cfg.thresholds),
            factor=self.cfg.factor,
            post_process=False,
            select_largest=False,
        )

    def _predict(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        if not frames:
            return []
        out: list[list[Detection]] = [[] for _ in frames]
        # Group by size so each group is one batched call.
        groups: dict[tuple[int, int], list[int]] = {}
        for i, f in enumerate(frames):
            groups.setdefault(f.shape[:2], []).append(i)
        for (h, w), idxs in groups.items():
            scale = self.cfg.detect_scale
            batch = torch.from_numpy(np.stack([frames[i] for i in idxs])).to(self.device)
            if scale < 1.0:
                sh, sw = max(16, round(h * scale)), max(16, round(w * scale))
                x = batch.permute(0, 3, 1, 2).float()
                x = F.interpolate(x, size=(sh, sw), mode="bilinear", antialias=True, align_corners=False)
                batch = x.clamp_(0, 255).permute(0, 2, 3, 1)
                sx, sy = w / sw, h / sh
            else:
                batch = batch.float()
                sx = sy = 1.0
            assert self._mtcnn is not None
            if min(batch.shape[1], batch.shape[2]) < self._mtcnn.min_face_size:
                continue  # no face of the minimum size fits (and MTCNN fails on such frames)
            boxes, probs = self._mtcnn.detect(batch)
            for j, i in enumerate(idxs):
                if boxes[j] is None:
                    continue
                found = []
                for box, p in zip(boxes[j], probs[j], strict=False):
                    if p is None or p < self.cfg.min_confidence:
                        continue
                    x1, y1, x2, y2 = (float(v) for v in box)
                    x1, x2 = max(0.0, x1 * sx), min(float(w), x2 * sx)
                    y1, y2 = max(0.0, y1 * sy), min(float(h), y2 * sy)
                    if x2 - x1 < 4 or y2 - y1 < 4:
                        continue
                    found.append(Detection((x1, y1, x2, y2), float(p)))
                found.sort(key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]), reverse=True)
                out[i] = found[: self.cfg.max_faces_per_frame]
        return out


#: `face_detector` setting value → detector class, constructed as `cls(settings, device)`
FACE_DETECTORS: dict[str, Callable[[Settings, str], FaceDetector]] = {
    "mtcnn": MTCNNDetector,
}


def build_face_detector(settings: Settings | None = None, device: str | None = None) -> FaceDetector:
    """A new (not yet loaded) detector of the kind `settings.face_detector` names, on `device`
    (default: the settings' device)."""
    settings = settings or get_settings()
    cls = FACE_DETECTORS.get(settings.face_detector)
    if cls is None:
        raise ModelError(
            f"unknown face detector {settings.face_detector!r} (DFS_FACE_DETECTOR): choose one of "
            + ", ".join(sorted(FACE_DETECTORS))
        )
    return cls(settings, device or settings.torch_device())


def get_face_detector(settings: Settings | None = None) -> FaceDetector:
    """The process-wide, loaded detector for these settings and device."""
    settings = settings or get_settings()
    device = settings.torch_device()
    key = ("face_detector", device, json.dumps(detector_settings(settings), sort_keys=True))
    return model_cache.get(key, lambda: build_face_detector(settings, device))


def detector_settings(settings: Settings) -> dict[str, Any]:
    """The settings a face detector may read, as JSON: `face_detector` and every nested
    settings group (a detector's knobs are one, like `mtcnn`)."""
    groups = {name for name, value in settings if isinstance(value, BaseModel)}
    return settings.model_dump(mode="json", include={"face_detector", *groups})
