"""Stage 4: find faces (the configured detector, one batch per segment) and cut them the way the
model's card asks (`shared.model.preprocessing`: geometry, margin, size)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from shared.model.face_detector import Detection, FaceDetector
from shared.model.preprocessing import CROP_DFDC, CROP_SQUARE, CropSpec
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


def dfdc_box(
    box: tuple[float, float, float, float], margin: float, width: int, height: int
) -> tuple[int, int, int, int]:
    """The DFDC winner's crop window: the box's corners truncated to whole pixels, widened by
    margin/2 of its width (height) on each side, rounded down, and cut at the frame edge."""
    x1, y1, x2, y2 = (int(v) for v in box)
    pad_w = math.floor((x2 - x1) * margin / 2 + 1e-6)
    pad_h = math.floor((y2 - y1) * margin / 2 + 1e-6)
    return (max(x1 - pad_w, 0), max(y1 - pad_h, 0), min(x2 + pad_w, width), min(y2 + pad_h, height))


def fit_isotropic(image: np.ndarray, size: int) -> np.ndarray:
    """`image` resized keeping its aspect so its longer side is `size` (the other side
    truncated to whole pixels): OpenCV area interpolation when shrinking, bicubic when enlarging."""
    import cv2

    h, w = image.shape[:2]
    if max(h, w) == size:
        return image
    scale = size / max(h, w)
    new_w, new_h = (size, int(h * scale)) if w > h else (int(w * scale), size)
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(image, (max(1, new_w), max(1, new_h)), interpolation=interpolation)  # type: ignore[no-any-return]


def crop_dfdc(
    image: np.ndarray, box: tuple[float, float, float, float], margin: float, size: int
) -> np.ndarray:
    """The DFDC winner's crop (`dfdc-rect`): `dfdc_box`, resized by `fit_isotropic`, centred
    on a black size×size square, uint8."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = dfdc_box(box, margin, w, h)
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    if x2 <= x1 or y2 <= y1:
        return canvas
    face = fit_isotropic(np.ascontiguousarray(image[y1:y2, x1:x2]), size)[:size, :size]
    top, left = (size - face.shape[0]) // 2, (size - face.shape[1]) // 2
    canvas[top : top + face.shape[0], left : left + face.shape[1]] = face
    return canvas


CROPPERS = {CROP_SQUARE: crop_square, CROP_DFDC: crop_dfdc}


def crop_face(image: np.ndarray, box: tuple[float, float, float, float], spec: CropSpec) -> np.ndarray:
    """The face at `box` cut as `spec` says (geometry, margin, size)."""
    return CROPPERS[spec.geometry](image, box, spec.margin, spec.size)


def detect_faces(
    frames: list[Frame],
    detector: FaceDetector,
    *,
    margin: float = 0.3,
    crop_size: int = 224,
    geometry: str = CROP_SQUARE,
    specs: Sequence[CropSpec] | None = None,
) -> list[FaceCrop]:
    """All faces in `frames`, found in one batched detector call, as model-ready crops: cut
    every way `specs` names (a classifier's `crop_specs`; default: one crop of `geometry`,
    `margin` and `crop_size`). `FaceCrop.crop` is the first."""
    specs = list(specs) if specs else [CropSpec(geometry, margin, crop_size)]
    detections: list[list[Detection]] = detector.predict([f.image for f in frames])
    crops: list[FaceCrop] = []
    for frame, found in zip(frames, detections, strict=True):
        for j, det in enumerate(found):
            views = {spec: crop_face(frame.image, det.box, spec) for spec in specs}
            crops.append(
                FaceCrop(
                    frame_index=frame.index,
                    face_index=j,
                    time_s=frame.time_s,
                    box=det.box,
                    confidence=det.confidence,
                    crop=views[specs[0]],
                    views=views,
                )
            )
    return crops
