"""Fakes made at frame resolution from real faces and their landmarks: faithful self-blends and
landmark face swaps. Both return the forged image and the soft mask of what was replaced.

Self-blended images (Shiohara & Yamasaki, "Detecting Deepfakes with Self-Blended Images",
CVPR 2022): one real face is blended with an altered copy of itself. As in the paper:
- the mask is the convex hull of the face landmarks, elastically deformed, then eroded or
  dilated and blurred, and scaled by a blend ratio drawn from {0.25, 0.5, 0.75, 1, 1, 1};
- the source-target generator alters either the source or the target (50/50): colour (RGB
  shift, hue/saturation/value, brightness/contrast), then either RandomDownScale (x2 or x4
  down and back up) or sharpening; the source is then slightly scaled and shifted;
- blending happens on the frame, before any crop, so the crop code sees what a swap leaves.

Face swap (the FaceForensics++ "FaceSwap" method in spirit, written from its description): the
donor's face is warped into the target's landmark geometry triangle by triangle (Delaunay
triangulation of the target's landmarks, one affine map per triangle), its colours are moved to
the target's inside the mask (mean and spread per channel in Lab), and it is blended by a
feathered mask or Poisson (seamless) cloning.

Everything works on a region around the face for speed; the rest of the frame is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.training.landmarks import WARP_POINTS

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Region:
    """A rectangle of the frame: [y1:y2, x1:x2]."""

    x1: int
    y1: int
    x2: int
    y2: int

    @classmethod
    def around(cls, pts: np.ndarray, shape: tuple[int, ...], pad: float = 0.35) -> Region:
        h, w = shape[:2]
        x1, y1 = pts.min(axis=0)
        x2, y2 = pts.max(axis=0)
        px, py = (x2 - x1) * pad, (y2 - y1) * pad
        return cls(
            int(max(0, np.floor(x1 - px))),
            int(max(0, np.floor(y1 - py))),
            int(min(w, np.ceil(x2 + px))),
            int(min(h, np.ceil(y2 + py))),
        )

    def cut(self, image: np.ndarray) -> np.ndarray:
        return image[self.y1 : self.y2, self.x1 : self.x2]

    def offset(self) -> np.ndarray:
        return np.array([self.x1, self.y1], dtype=np.float32)


def hull_mask(pts: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A binary (0/1 float32) mask of the convex hull of `pts` (N×2, x/y) in an image of `shape`."""
    import cv2

    mask = np.zeros(shape, dtype=np.uint8)
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(np.float32)


def elastic(mask: np.ndarray, rng: np.random.Generator, strength: float = 0.04) -> np.ndarray:
    """The mask warped by a smooth random displacement field (`strength` of its size)."""
    import cv2

    h, w = mask.shape
    grid = 4
    field = rng.uniform(-1, 1, size=(2, grid, grid)).astype(np.float32) * strength * max(h, w)
    dx = cv2.resize(field[0], (w, h), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(field[1], (w, h), interpolation=cv2.INTER_CUBIC)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(mask, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def soften(mask: np.ndarray, rng: np.random.Generator, face_size: float) -> np.ndarray:
    """Erode or dilate a little, then blur: a soft edge whose width scales with the face."""
    import cv2

    k = max(1, int(face_size * rng.uniform(0.02, 0.08)))
    kernel = np.ones((k, k), np.uint8)
    mask = cv2.erode(mask, kernel) if rng.random() < 0.5 else cv2.dilate(mask, kernel)
    sigma = max(0.5, face_size * rng.uniform(0.02, 0.08))
    mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    peak = float(mask.max())
    return mask / peak if peak > 0 else mask


def landmark_mask(
    pts: np.ndarray, shape: tuple[int, int], rng: np.random.Generator, *, deform: bool = True
) -> np.ndarray:
    """The self-blend mask: convex hull of the landmarks, elastically deformed, eroded or
    dilated and blurred; values in [0, 1], 1 inside the face, a soft edge at its border."""
    face = float(max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1])))
    mask = hull_mask(pts, shape)
    if deform:
        mask = elastic(mask, rng)
    return soften(mask, rng, face)


def _hsv_shift(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import cv2

    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-0.3, 0.3) * 18) % 180  # hue, of ±0.3 of the albumentations unit
    hsv[..., 1] *= 1 + rng.uniform(-0.3, 0.3)
    hsv[..., 2] *= 1 + rng.uniform(-0.3, 0.3)
    return cv2.cvtColor(np.clip(hsv, 0, [179, 255, 255]).astype(np.uint8), cv2.COLOR_HSV2RGB)


def alter(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The source-target generator's pixel alterations (each colour step with p=0.3, then
    RandomDownScale or sharpening)."""
    import cv2

    out = img.astype(np.float32)
    if rng.random() < 0.3:
        out += rng.uniform(-20, 20, size=(1, 1, 3))
    out8: np.ndarray = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        out8 = _hsv_shift(out8, rng)
    if rng.random() < 0.3:
        a, b = 1 + rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1) * 255
        out8 = np.clip(out8.astype(np.float32) * a + b, 0, 255).astype(np.uint8)
    h, w = out8.shape[:2]
    if rng.random() < 0.5:  # RandomDownScale
        r = int(rng.choice([2, 4]))
        small = cv2.resize(out8, (max(1, w // r), max(1, h // r)), interpolation=cv2.INTER_LINEAR)
        out8 = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:  # Sharpen (alpha 0.2-0.5, lightness 0.5-1)
        alpha, light = rng.uniform(0.2, 0.5), rng.uniform(0.5, 1.0)
        k = np.array([[-1, -1, -1], [-1, 8 + light, -1], [-1, -1, -1]], np.float32)
        ident = np.zeros((3, 3), np.float32)
        ident[1, 1] = 1
        kernel = (1 - alpha) * ident + alpha * k
        sharpened = cv2.filter2D(out8.astype(np.float32), -1, kernel)
        out8 = np.clip(sharpened, 0, 255).astype(np.uint8)
    return out8


def _shift_scale(img: np.ndarray, rng: np.random.Generator, centre: np.ndarray) -> np.ndarray:
    """Small random affine of the source about the face centre (translate ±3 %/±1.5 %, scale 0.95-1.05)."""
    import cv2

    h, w = img.shape[:2]
    s = rng.uniform(0.95, 1 / 0.95)
    tx, ty = rng.uniform(-0.03, 0.03) * w, rng.uniform(-0.015, 0.015) * h
    m = np.array([[s, 0, (1 - s) * centre[0] + tx], [0, s, (1 - s) * centre[1] + ty]], np.float32)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _blend(src: np.ndarray, tgt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None]
    return np.clip(src.astype(np.float32) * m + tgt.astype(np.float32) * (1 - m) + 0.5, 0, 255).astype(
        np.uint8
    )


def self_blend_frame(
    image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A self-blended fake of the face with `landmarks` in `image` (H×W×3 uint8), and the mask
    (H×W float32, blend ratio included)."""
    region = Region.around(landmarks, image.shape)
    pts = landmarks - region.offset()
    if rng.random() < 0.5:
        out = image.copy()
        src = alter(region.cut(image).copy(), rng)
    else:  # the target is the whole frame: an altered region would leave a rectangular seam
        out = alter(image, rng)
        src = region.cut(image).copy()
    tgt = region.cut(out).copy()
    src = _shift_scale(src, rng, pts.mean(axis=0))
    mask = landmark_mask(pts, tgt.shape[:2], rng) * float(rng.choice(BLEND_RATIOS))
    region.cut(out)[:] = _blend(src, tgt, mask)
    full = np.zeros(image.shape[:2], np.float32)
    region.cut(full)[:] = mask
    return out, full


def warp_face(
    donor: np.ndarray, donor_pts: np.ndarray, target_pts: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """The donor image warped so that its landmarks land on `target_pts`, piecewise affine over
    the Delaunay triangles of the target's landmarks; an image of `shape` (zeros outside)."""
    import cv2
    from scipy.spatial import Delaunay

    out = np.zeros((*shape, 3), dtype=np.uint8)
    tri = Delaunay(target_pts)
    h, w = shape
    for simplex in tri.simplices:
        t = target_pts[simplex].astype(np.float32)
        s = donor_pts[simplex].astype(np.float32)
        x, y, bw, bh = cv2.boundingRect(np.round(t).astype(np.int32))
        x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
        if x1 <= x0 or y1 <= y0:
            continue
        m = cv2.getAffineTransform(s, t - np.array([x0, y0], np.float32))
        patch = cv2.warpAffine(
            donor, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        tri_mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(tri_mask, np.round(t - [x0, y0]).astype(np.int32), 1)
        sel = tri_mask.astype(bool)
        out[y0:y1, x0:x1][sel] = patch[sel]
    return out


def colour_transfer(src: np.ndarray, tgt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`src` recoloured so that, inside `mask`, its per-channel Lab mean and spread match `tgt`'s."""
    import cv2

    sel = mask > 0.5
    if sel.sum() < 16:
        return src
    s = cv2.cvtColor(src, cv2.COLOR_RGB2LAB).astype(np.float32)
    t = cv2.cvtColor(tgt, cv2.COLOR_RGB2LAB).astype(np.float32)
    for c in range(3):
        sm, ss = s[..., c][sel].mean(), s[..., c][sel].std() + 1e-3
        tm, ts = t[..., c][sel].mean(), t[..., c][sel].std() + 1e-3
        s[..., c] = (s[..., c] - sm) * (ts / ss) + tm
    return cv2.cvtColor(np.clip(s, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def face_swap(
    target: np.ndarray,
    target_landmarks: np.ndarray,
    donor: np.ndarray,
    donor_landmarks: np.ndarray,
    rng: np.random.Generator,
    *,
    seamless: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`target` with the donor's face warped onto its face, recoloured and blended; and the
    blend mask (H×W float32 in [0, 1])."""
    import cv2

    idx = np.array(WARP_POINTS)
    region = Region.around(target_landmarks, target.shape, pad=0.15)
    roi = region.cut(target)
    t_pts = target_landmarks - region.offset()
    shape = roi.shape[:2]
    warped = warp_face(donor, donor_landmarks[idx], t_pts[idx], shape)
    face = float(max(np.ptp(t_pts[:, 0]), np.ptp(t_pts[:, 1])))
    hull = hull_mask(t_pts[list(WARP_POINTS)], shape)
    inner = cv2.erode(hull, np.ones((max(1, int(face * 0.06)),) * 2, np.uint8))
    warped = colour_transfer(warped, roi, inner)
    if seamless is None:
        seamless = bool(rng.random() < 0.5)
    out = target.copy()
    if seamless and inner.sum() > 64:
        m8 = (inner * 255).astype(np.uint8)
        x, y, bw, bh = cv2.boundingRect(m8)
        centre = (x + bw // 2, y + bh // 2)
        blended = cv2.seamlessClone(
            np.ascontiguousarray(warped), np.ascontiguousarray(roi), m8, centre, cv2.NORMAL_CLONE
        )
        mask = cv2.GaussianBlur(inner, (0, 0), max(0.5, face * 0.02))
        region.cut(out)[:] = blended
    else:
        mask = soften(inner, rng, face)
        region.cut(out)[:] = _blend(warped, roi, mask)
    full = np.zeros(target.shape[:2], np.float32)
    region.cut(full)[:] = mask
    return out, full
