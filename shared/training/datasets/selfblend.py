"""Self-blended pseudo-fakes (Shiohara & Yamasaki, "Detecting Deepfakes with Self-Blended
Images", CVPR 2022).

A fake is made from one real face alone: a copy of the face is jittered in colour and
geometry, then blended back over the original through a soft mask derived from the face box
(or from landmarks, when given). The result carries the artefacts every face swap leaves —
a blending boundary, a colour mismatch, a slight misalignment — without any generator, so a
user with only real footage can train a detector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter


@dataclass(frozen=True)
class BlendConfig:
    color_jitter: float = 0.15
    max_shift: float = 0.03  # of the crop side
    max_scale: float = 0.05
    max_rotate_deg: float = 3.0
    blur_sigma: tuple[float, float] = (2.0, 10.0)
    blend_ratios: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)


def face_box_in_crop(size: int, margin: float) -> tuple[float, float, float, float]:
    """The face box inside a square crop cut with `margin` (see shared/pipeline/faces.py)."""
    side = size / (1 + margin)
    off = (size - side) / 2
    return off, off, off + side, off + side


def blend_mask(
    size: int,
    box: tuple[float, float, float, float],
    rng: np.random.Generator,
    cfg: BlendConfig,
    landmarks: np.ndarray | None = None,
) -> np.ndarray:
    """A soft mask in [0, 1] (size×size float32) covering the inner face."""
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    if landmarks is not None and len(landmarks) >= 5:
        pts = np.asarray(landmarks, dtype=float)
        c = pts.mean(axis=0)
        pts = c + (pts - c) * rng.uniform(1.3, 1.8)  # grow the landmark hull over cheeks and chin
        hull = [tuple(p) for p in pts[_convex_hull(pts)]]
        draw.polygon(hull, fill=255)
    else:
        x1, y1, x2, y2 = box
        cx, cy = (
            (x1 + x2) / 2 + rng.uniform(-0.03, 0.03) * size,
            (y1 + y2) / 2 + rng.uniform(-0.02, 0.06) * size,
        )
        rx = (x2 - x1) / 2 * rng.uniform(0.6, 0.85)
        ry = (y2 - y1) / 2 * rng.uniform(0.75, 1.0)
        # a jagged ellipse: random radius per angle, so boundaries are not all alike
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        wobble = rng.uniform(0.9, 1.1, size=angles.shape)
        poly = [
            (cx + rx * w * np.cos(a), cy + ry * w * np.sin(a)) for a, w in zip(angles, wobble, strict=True)
        ]
        draw.polygon(poly, fill=255)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(*cfg.blur_sigma) * size / 224))
    mask = np.asarray(img, dtype=np.float32) / 255.0
    if mask.max() > 0:
        mask = mask / mask.max()
    return mask * float(rng.choice(cfg.blend_ratios))


def _convex_hull(pts: np.ndarray) -> list[int]:
    idx = sorted(range(len(pts)), key=lambda i: (pts[i][0], pts[i][1]))

    def cross(o: int, a: int, b: int) -> float:
        return float(
            (pts[a][0] - pts[o][0]) * (pts[b][1] - pts[o][1])
            - (pts[a][1] - pts[o][1]) * (pts[b][0] - pts[o][0])
        )

    lower: list[int] = []
    for i in idx:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], i) <= 0:
            lower.pop()
        lower.append(i)
    upper: list[int] = []
    for i in reversed(idx):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], i) <= 0:
            upper.pop()
        upper.append(i)
    return lower[:-1] + upper[:-1]


def is_grayscale(img: np.ndarray, tolerance: int = 4) -> bool:
    a = img.astype(np.int16)
    return bool(
        np.abs(a[..., 0] - a[..., 1]).max() <= tolerance and np.abs(a[..., 1] - a[..., 2]).max() <= tolerance
    )


def jitter_source(face: np.ndarray, rng: np.random.Generator, cfg: BlendConfig) -> np.ndarray:
    """The 'donor' face: the same face, slightly recoloured, resharpened/blurred and moved."""
    img = Image.fromarray(face)
    j = cfg.color_jitter
    img = ImageEnhance.Brightness(img).enhance(1 + rng.uniform(-j, j))
    img = ImageEnhance.Contrast(img).enhance(1 + rng.uniform(-j, j))
    # a grayscale face (CCTV, old footage) must stay gray: colour would be a give-away
    # that real swaps of gray footage never show
    if not is_grayscale(face):
        img = ImageEnhance.Color(img).enhance(1 + rng.uniform(-2 * j, 2 * j))
        arr = np.asarray(img).astype(np.float32)
        arr *= rng.uniform(1 - j / 2, 1 + j / 2, size=(1, 1, 3))  # per-channel colour cast
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    else:
        img = img.filter(ImageFilter.UnsharpMask(radius=2, percent=int(rng.integers(50, 150))))
    size = face.shape[0]
    s = 1 + rng.uniform(-cfg.max_scale, cfg.max_scale)
    dx, dy = rng.uniform(-cfg.max_shift, cfg.max_shift, size=2) * size
    img = img.rotate(
        rng.uniform(-cfg.max_rotate_deg, cfg.max_rotate_deg),
        resample=Image.Resampling.BILINEAR,
        translate=(dx, dy),
        fillcolor=None,
    )
    if abs(s - 1) > 1e-3:
        w = int(size * s)
        scaled = img.resize((w, w), Image.Resampling.BILINEAR)
        off = (w - size) // 2
        if w >= size:
            img = scaled.crop((off, off, off + size, off + size))
        else:
            canvas = Image.fromarray(face)
            canvas.paste(scaled, (-off, -off))
            img = canvas
    return np.asarray(img, dtype=np.uint8)


def self_blend(
    face: np.ndarray,
    rng: np.random.Generator,
    *,
    margin: float = 0.3,
    cfg: BlendConfig | None = None,
    landmarks: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A pseudo-fake of `face` (a square crop cut with `margin`), and the mask used."""
    cfg = cfg or BlendConfig()
    size = face.shape[0]
    source = jitter_source(face, rng, cfg)
    mask = blend_mask(size, face_box_in_crop(size, margin), rng, cfg, landmarks)[..., None]
    out = source.astype(np.float32) * mask + face.astype(np.float32) * (1 - mask)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), mask[..., 0]
