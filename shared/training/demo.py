"""The demo checkpoint: the best honest substitute for a model trained on a real deepfake
dataset, which cannot be reached from this project's machines.

Data: the real face photos that ship inside installed packages — scikit-image's astronaut
(Eileen Collins) and cameraman, matplotlib's grace_hopper — and the 100 face images of
scikit-image's `lfw_subset` (25×25 grayscale crops of Labeled Faces in the Wild, one identity
each). Random views of each photo (scale, rotation, shift, light, flips, JPEG) go through the
pipeline's own face detector (DFS_FACE_DETECTOR, tuned for photos) and cropper; the LFW faces are upscaled into crops of the same layout.
Fakes are self-blended pseudo-fakes made from those real faces. Identity-disjoint splits:
train = astronaut, cameraman, LFW 0–69; validation (early stopping, threshold) =
grace_hopper, LFW 70–84; test = LFW 85–99, never seen in any form.

It has never seen a real deepfake. It learns to spot blending boundaries and colour
mismatches inside a face, which is what face swaps leave behind, but its verdicts on real
media are not evidence of anything.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageEnhance

from shared.training.datasets import REAL
from shared.training.extract import ExtractConfig, FaceRecord, write_index

if TYPE_CHECKING:  # pragma: no cover
    from shared.config import Settings

TRAIN_IDENTITIES = ("astronaut", "cameraman")
VAL_IDENTITIES = ("grace_hopper",)
#: scikit-image's lfw_subset faces (indices): 100 identities, split three ways
LFW_TRAIN, LFW_VAL, LFW_TEST = range(0, 70), range(70, 85), range(85, 100)


def offline_photo(name: str) -> np.ndarray:
    if name == "cameraman":
        from skimage import data

        gray = np.asarray(data.camera())
        return np.stack([gray] * 3, axis=-1)
    from shared.media.samples import load_subject

    return load_subject(name)  # type: ignore[arg-type]


def lfw_faces() -> list[np.ndarray]:
    """The 100 face images of scikit-image's LFW subset (the other 100 are non-faces)."""
    from skimage import data

    faces = data.lfw_subset()[:100]
    return [np.stack([(f * 255).astype(np.uint8)] * 3, axis=-1) for f in faces]


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


def build_lfw_faces(out: Path, cfg: ExtractConfig, indices: range = range(100)) -> int:
    """The LFW subset faces as crops: the 25×25 images are tight face boxes, so each is
    upscaled to the face box size and padded with its edge to the crop margin."""
    side = int(round(cfg.crop_size / (1 + cfg.margin)))
    pad = (cfg.crop_size - side) // 2
    count = 0
    faces = lfw_faces()
    for i in indices:
        face = faces[i]
        sample = f"lfw-{i:03d}"
        big = np.asarray(Image.fromarray(face).resize((side, side), Image.Resampling.BICUBIC))
        crop = np.pad(
            big, ((pad, cfg.crop_size - side - pad), (pad, cfg.crop_size - side - pad), (0, 0)), mode="edge"
        )
        folder = out / "faces" / sample
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(crop).save(folder / "0000_0.png")
        rec = FaceRecord(
            f"faces/{sample}/0000_0.png",
            REAL,
            sample,
            sample,
            0,
            0.0,
            [pad, pad, pad + side, pad + side],
            1.0,
        )
        (folder / "index.json").write_text(json.dumps([asdict(rec)]))
        count += 1
    if not (out / "extract.json").is_file():
        (out / "extract.json").write_text(json.dumps(asdict(cfg) | {"source": "skimage lfw_subset faces"}))
    write_index(out)
    return count


DEMO_WARNING = (
    "demonstration model: trained on self-blended pseudo-fakes of a few offline photos, never on a real deepfake "
    "dataset; this verdict is not evidence (see docs/model.md)"
)

DEMO_DESCRIPTION = (
    "DEMONSTRATION MODEL. Trained from scratch (no pretrained weights) on self-blended pseudo-fakes "
    "(Shiohara & Yamasaki 2022) made from real faces that ship inside Python packages: random views of "
    "scikit-image's astronaut and cameraman photos and 70 tiny (25x25 grayscale) Labeled-Faces-in-the-Wild "
    "crops from scikit-image's lfw_subset; validated on matplotlib's grace_hopper and 15 more LFW faces; tested "
    "on the last 15 LFW faces. It has NEVER seen a real deepfake dataset: its verdicts demonstrate the "
    "pipeline and are not evidence about real media. Train a real model on DFDC (docs/model.md) before "
    "relying on a verdict."
)


def demo_config(
    work: Path,
    *,
    views: int,
    epochs: int,
    steps_per_epoch: int,
    batch_size: int,
    device: str,
    workers: int = 0,
    max_train_seconds: float | None = None,
    lr: float = 5e-4,
) -> dict[str, Any]:
    return {
        "data": {
            "path": str(work / "train-faces"),
            "val_path": str(work / "val-faces"),
            "selfblend": True,
            "blend_color_jitter": 0.3,
            "blend_ratios": [0.5, 0.75, 1.0, 1.0],
            "description": "self-blended pseudo-fakes from random views of skimage astronaut + cameraman and "
            "skimage lfw_subset faces 0-69; validation: matplotlib grace_hopper + lfw_subset faces 70-84",
        },
        "model": {"backbone": "efficientnet_b0", "input_size": 224},
        "optim": {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            # measured at 128 px (docs/model.md): with this little data and ten CPU minutes, the
            # network cannot learn through the full augmentation set (held-out AUC 0.70 with light
            # augmentation vs 0.92 without); BCE (focal gamma 0) learned faster than gamma 2 (0.81)
            "augment": False,
            "focal_gamma": 0.0,
            "focal_alpha": -1.0,
            "weight_decay": 1e-2,
            "warmup_fraction": 0.05,
            "max_steps_per_epoch": steps_per_epoch,
            "early_stopping_patience": max(3, epochs // 2),
            "device": device,
            "seed": 0,
            "num_workers": workers,
            "max_train_seconds": max_train_seconds,
        },
        "output": str(work / "run"),
        "name": "srm-efficientnet-b0-demo",
        "description": DEMO_DESCRIPTION,
    }
