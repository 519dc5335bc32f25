"""The seed's augmentation set, on uint8 RGB crops: JPEG and video-like compression, blur,
noise, colour jitter, flips and cut-out.

Applied identically to real and fake crops, so that compression or blur can never become a
shortcut for the label.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter


@dataclass(frozen=True)
class AugmentConfig:
    p_jpeg: float = 0.5
    jpeg_quality: tuple[int, int] = (35, 95)
    p_video: float = 0.3  # down-scale + 4:2:0 + strong JPEG, like a low bit-rate H.264 frame
    p_blur: float = 0.2
    p_noise: float = 0.2
    p_color: float = 0.5
    p_flip: float = 0.5
    p_cutout: float = 0.3
    p_downscale: float = 0.2

    @classmethod
    def light(cls) -> AugmentConfig:
        """Flips, colour and mild JPEG only: for data too small to learn through heavy corruption."""
        return cls(
            p_jpeg=0.5,
            jpeg_quality=(70, 96),
            p_video=0.0,
            p_blur=0.0,
            p_noise=0.0,
            p_color=0.5,
            p_flip=0.5,
            p_cutout=0.0,
            p_downscale=0.0,
        )

    @classmethod
    def none(cls) -> AugmentConfig:
        return cls(0, (95, 95), 0, 0, 0, 0, 0, 0, 0)


def jpeg(img: Image.Image, quality: int, subsampling: int = 0) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(quality), subsampling=subsampling)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def video_like(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A cheap stand-in for a low bit-rate H.264 frame: resolution loss, chroma subsampling and
    8x8 block quantisation."""
    w, h = img.size
    f = rng.uniform(0.5, 0.9)
    small = img.resize((max(8, int(w * f)), max(8, int(h * f))), Image.Resampling.BILINEAR)
    small = jpeg(small, int(rng.integers(20, 55)), subsampling=2)
    return small.resize((w, h), Image.Resampling.BILINEAR)


def augment(crop: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    img = Image.fromarray(crop)
    if rng.random() < cfg.p_flip:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rng.random() < cfg.p_color:
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.7, 1.3))
        img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.7, 1.3))
        img = ImageEnhance.Color(img).enhance(rng.uniform(0.6, 1.4))
    if rng.random() < cfg.p_downscale:
        w, h = img.size
        f = rng.uniform(0.4, 0.8)
        img = img.resize((int(w * f), int(h * f)), Image.Resampling.BILINEAR).resize(
            (w, h), Image.Resampling.BILINEAR
        )
    if rng.random() < cfg.p_blur:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    if rng.random() < cfg.p_video:
        img = video_like(img, rng)
    elif rng.random() < cfg.p_jpeg:
        img = jpeg(img, int(rng.integers(*cfg.jpeg_quality)))
    out = np.asarray(img, dtype=np.uint8).copy()
    if rng.random() < cfg.p_noise:
        noise = rng.normal(0, rng.uniform(2, 8), out.shape)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < cfg.p_cutout:
        h, w = out.shape[:2]
        ch, cw = int(h * rng.uniform(0.1, 0.3)), int(w * rng.uniform(0.1, 0.3))
        y, x = int(rng.integers(0, h - ch)), int(rng.integers(0, w - cw))
        out[y : y + ch, x : x + cw] = rng.integers(0, 255)
    return out
