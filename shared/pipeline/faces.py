"""Stage 4: find faces (the configured detector, one batch per segment) and cut square crops for the model."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from shared.model.face_detector import Detection, FaceDetector
from shared.types import FaceCrop, Frame


def square_box(box: tuple[float, float, float, float], margin: float) -> tuple[int, int, int, int]:
    """A square around the face centre whose side is the box's longer side plus `margin` of it."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    side = max(1, round(max(x2 - x1, y2 - y1) * (1 + margin)))
    left, top = round(cx - side / 2), round(cy - side / 2)
    return (left, top, left + side, top + side)


def crop_square(
    image: np.ndarray, box: tuple[float, float, float, float], margin: float, size: int
) -> np.ndarray:
    """The square crop (zero-padded where it leaves the frame) resized to size×size, uint8."""
    h, w = image.shape[:2]
    sx1, sy1, sx2, sy2 = square_box(box, margin)
    side = max(1, sx2 - sx1)
    canvas = np.zeros((side, side, 3), dtype=np.uint8)
    ix1, iy1, ix2, iy2 = max(0, sx1), max(0, sy1), min(w, sx2), min(h, sy2)
    if ix2 > ix1 and iy2 > iy1:
        canvas[iy1 - sy1 : iy2 - sy1, ix1 - sx1 : ix2 - sx1] = image[iy1:iy2, ix1:ix2]
    if side == size:
        return canvas
    t = torch.from_numpy(canvas).permute(2, 0, 1)[None].float()
    t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=side > size, align_corners=False)
    return t[0].permute(1, 2, 0).round_().clamp_(0, 255).to(torch.uint8).numpy()


def detect_faces(
    frames: list[Frame], detector: FaceDetector, *, margin: float = 0.3, crop_size: int = 224
) -> list[FaceCrop]:
    """All faces in `frames`, found in one batched detector call, as model-ready crops."""
    detections: list[list[Detection]] = detector.predict([f.image for f in frames])
    crops: list[FaceCrop] = []
    for frame, found in zip(frames, detections, strict=True):
        for j, det in enumerate(found):
            crops.append(
                FaceCrop(
                    frame_index=frame.index,
                    face_index=j,
                    time_s=frame.time_s,
                    box=det.box,
                    confidence=det.confidence,
                    crop=crop_square(frame.image, det.box, margin, crop_size),
                )
            )
    return crops
