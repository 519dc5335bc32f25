"""Face detector: facenet-pytorch's MTCNN, weights from its wheel (no download)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from shared.config import MTCNNSettings, Settings, get_settings
from shared.model.base import InferenceModel, model_cache


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the original frame's pixels
    confidence: float


class FaceDetector(InferenceModel[list[np.ndarray], list[list[Detection]]]):
    """Frames (H×W×3 uint8, all the same size) → faces per frame, detected in one batch at
    `detect_scale` resolution; boxes are mapped back to full resolution."""

    def __init__(self, cfg: MTCNNSettings, device: str = "cpu") -> None:
        super().__init__(device)
        self.cfg = cfg
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


def get_face_detector(settings: Settings | None = None) -> FaceDetector:
    settings = settings or get_settings()
    device = settings.torch_device()
    key = ("mtcnn", settings.mtcnn.model_dump_json(), device)
    return model_cache.get(key, lambda: FaceDetector(settings.mtcnn, device))
