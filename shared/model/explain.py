"""Evidence images: a face thumbnail and its heatmap overlay (what the head looked at)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def _jet(v: np.ndarray) -> np.ndarray:
    """A small perceptual-enough colour map (blue → cyan → yellow → red), no matplotlib."""
    v = np.clip(v, 0, 1)[..., None]
    stops = np.array([[0, 0, 128], [0, 160, 255], [255, 230, 0], [220, 0, 0]], dtype=np.float32)
    pos = v * (len(stops) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(stops) - 2)
    frac = pos - lo
    return (stops[lo[..., 0]] * (1 - frac) + stops[lo[..., 0] + 1] * frac).astype(np.uint8)


def thumbnail_jpeg(crop: np.ndarray, size: int = 160, quality: int = 85) -> bytes:
    img = Image.fromarray(crop).resize((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def heatmap_overlay_jpeg(
    crop: np.ndarray, heatmap: np.ndarray, size: int = 160, alpha: float = 0.45, quality: int = 85
) -> bytes:
    """The crop with its heatmap (values in [0, 1], any grid) blended on top."""
    base = np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.LANCZOS), dtype=np.float32)
    heat = Image.fromarray((np.clip(heatmap, 0, 1) * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BILINEAR
    )
    colour = _jet(np.asarray(heat, dtype=np.float32) / 255.0).astype(np.float32)
    out = base * (1 - alpha) + colour * alpha
    buf = io.BytesIO()
    Image.fromarray(out.clip(0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
