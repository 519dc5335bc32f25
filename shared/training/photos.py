"""Offline photos as training material for tests and small experiments: the real face photos
that ship inside installed packages (scikit-image's astronaut and cameraman, matplotlib's
grace_hopper) and random camera-like views of them, cut by the pipeline's own face detector
and cropper into the extract-faces layout.

The bundled checkpoint is built from a much larger corpus (shared/training/bundled.py).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageEnhance

from shared.training.datasets import REAL
from shared.training.extract import ExtractConfig, FaceRecord, write_index

if TYPE_CHECKING:  # pragma: no cover
    from shared.config import Settings


def offline_photo(name: str) -> np.ndarray:
    if name == "cameraman":
        from skimage import data

        gray = np.asarray(data.camera())
        return np.stack([gray] * 3, axis=-1)
    from shared.media.samples import load_subject

    return load_subject(name)  # type: ignore[arg-type]


def random_view(photo: np.ndarray, rng: np.random.Generator, size: int = 640) -> np.ndarray:
    """The photo as a camera might frame it: scaled, rotated, shifted, lit, maybe mirrored,
    JPEG-compressed, on a `size`×`size` canvas."""
    img = Image.fromarray(photo)
    scale = rng.uniform(0.7, 1.25) * size / max(img.size)
    img = img.resize(
        (max(16, int(img.width * scale)), max(16, int(img.height * scale))), Image.Resampling.BICUBIC
    )
    img = img.rotate(
        rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0)
    )
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.75, 1.25))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.8, 1.2))
    canvas = Image.new("RGB", (size, size), tuple(int(c) for c in rng.integers(0, 255, 3)))
    x = int(rng.integers(min(0, size - img.width), max(1, size - img.width + 1)))
    y = int(rng.integers(min(0, size - img.height), max(1, size - img.height + 1)))
    canvas.paste(img, (x, y))
    buf = io.BytesIO()
    canvas.save(buf, format="JPEG", quality=int(rng.integers(60, 96)))
    return np.asarray(Image.open(buf).convert("RGB"))


def photo_detector_settings(settings: Settings | None = None) -> Settings:
    """The settings with the detector tuned for one large face per photo view: full resolution,
    faces from 48 px, one face kept."""
    from shared.config import get_settings

    settings = settings or get_settings()
    mtcnn = settings.mtcnn.model_copy(
        update={"detect_scale": 1.0, "min_face_size": 48, "max_faces_per_frame": 1}
    )
    return settings.model_copy(update={"mtcnn": mtcnn})


def build_photo_faces(
    out: Path,
    identities: tuple[str, ...],
    views: int,
    seed: int,
    cfg: ExtractConfig,
    progress: Callable[[int, int], None] | None = None,
    settings: Settings | None = None,
) -> int:
    """Random views of each identity's photo → the face detector → crops, in the extract-faces layout."""
    from shared.model.face_detector import build_face_detector
    from shared.pipeline.faces import detect_faces
    from shared.types import Frame

    detector = build_face_detector(photo_detector_settings(settings), "cpu")
    rng = np.random.default_rng(seed)
    total, done = len(identities) * views, 0
    count = 0
    for identity in identities:
        photo = offline_photo(identity)
        for i in range(views):
            sample = f"{identity}-{i:04d}"
            frame = Frame(index=0, time_s=0.0, image=random_view(photo, rng))
            crops = detect_faces([frame], detector, margin=cfg.margin, crop_size=cfg.crop_size)
            done += 1
            if progress:
                progress(done, total)
            if not crops:
                continue  # the detector missed this view (strong rotation / crop): a real miss, not invented
            folder = out / "faces" / sample
            folder.mkdir(parents=True, exist_ok=True)
            c = crops[0]
            Image.fromarray(c.crop).save(folder / "0000_0.png")
            rec = FaceRecord(
                f"faces/{sample}/0000_0.png",
                REAL,
                identity,
                sample,
                0,
                0.0,
                [round(v, 1) for v in c.box],
                round(c.confidence, 4),
            )
            (folder / "index.json").write_text(json.dumps([asdict(rec)]))
            count += 1
    (out / "extract.json").write_text(json.dumps(asdict(cfg) | {"source": "demo photo views"}))
    write_index(out)
    return count
