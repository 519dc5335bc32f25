"""Held-out clips through the whole pipeline: how the bundled model is calibrated and measured.

For each identity of a split, its largest face is cut to a portrait (a window of three face
sides around it, so group photos show one main face) and animated by `make_clip` into 4 s
720p H.264 clips with the same encoder settings for every clip: real ones, a self-blend and a
face swap (donor: another identity of the same split). Each clip goes through
`analyze_file`, exactly as `deepfakestream analyze` runs it; the video, segment and face
probabilities are kept for the metrics.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.training.bundled import CorpusFace, load_photo


@dataclass(frozen=True)
class ClipSpec:
    name: str
    identity: str
    kind: str  # real | sbi | swap
    label: int
    face: str  # CorpusFace.key
    donor: str | None
    crf: int
    seed: int


def portrait(
    photo: np.ndarray, box: tuple[float, float, float, float], context: float = 3.0
) -> tuple[np.ndarray, tuple[int, int]]:
    """A window of `context` face sides around the face (clipped to the photo), and its offset."""
    h, w = photo.shape[:2]
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * context
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 + 0.1 * (y2 - y1)
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(w, math.ceil(cx + side / 2))), int(min(h, math.ceil(cy + side / 2)))
    return photo[top:bottom, left:right], (left, top)


def plan_clips(
    faces: list[CorpusFace], landmarks: dict[str, np.ndarray], *, reals: int = 2, seed: int = 0, crf: int = 23
) -> list[ClipSpec]:
    """Per identity (its largest face with landmarks): `reals` real clips, one self-blend, one swap."""
    rng = np.random.default_rng(seed)
    best: dict[str, CorpusFace] = {}
    for f in faces:
        if f.key in landmarks and (f.identity not in best or f.side > best[f.identity].side):
            best[f.identity] = f
    ids = sorted(best)
    specs: list[ClipSpec] = []
    for i, ident in enumerate(ids):
        face = best[ident]
        slug = f"{i:03d}"
        for r in range(reals):
            specs.append(
                ClipSpec(f"{slug}-real{r}", ident, "real", 0, face.key, None, crf, int(rng.integers(2**31)))
            )
        specs.append(ClipSpec(f"{slug}-sbi", ident, "sbi", 1, face.key, None, crf, int(rng.integers(2**31))))
        if len(ids) > 1:
            donor = best[ids[(i + 1 + int(rng.integers(0, len(ids) - 1))) % len(ids)]]
            if donor.identity == ident:
                donor = best[ids[(i + 1) % len(ids)]]
            specs.append(
                ClipSpec(f"{slug}-swap", ident, "swap", 1, face.key, donor.key, crf, int(rng.integers(2**31)))
            )
    return specs


def make_eval_clip(
    spec: ClipSpec,
    corpus: Path,
    faces: dict[str, CorpusFace],
    landmarks: dict[str, np.ndarray],
    out: Path,
    *,
    seconds: float = 4.0,
) -> Path:
    """Render one planned clip (idempotent: an existing file is kept)."""
    from shared.media.samples import make_clip
    from shared.training.forgery import face_swap, self_blend_frame

    if out.is_file() and out.stat().st_size > 0:
        return out
    rng = np.random.default_rng(spec.seed)
    face = faces[spec.face]
    photo, scale = load_photo(corpus, face.image)
    pts = landmarks[spec.face]
    box = tuple(v * scale for v in face.box)
    if spec.kind == "sbi":
        photo, _ = self_blend_frame(photo, pts, rng)
    elif spec.kind == "swap" and spec.donor is not None:
        donor = faces[spec.donor]
        photo, _ = face_swap(photo, pts, load_photo(corpus, donor.image)[0], landmarks[spec.donor], rng)
    image, _ = portrait(photo, box)  # type: ignore[arg-type]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.stem}.{os.getpid()}.part.mp4")  # several builders may share a work folder
    make_clip(
        tmp,
        photo_array=np.ascontiguousarray(image),
        seconds=seconds,
        width=1280,
        height=720,
        fps=25,
        crf=spec.crf,
    )
    tmp.replace(out)
    return out


def score_clips(
    specs: list[ClipSpec],
    clip_dir: Path,
    checkpoint: Path,
    *,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Run every clip through `analyze_file` with `checkpoint`; one row per clip with the
    video probability and its segments' and faces' probabilities."""
    from shared.config import Settings
    from shared.pipeline.runner import analyze_file

    settings = Settings(checkpoint=str(checkpoint))
    rows = []
    for spec in specs:
        a = analyze_file(clip_dir / f"{spec.name}.mp4", settings)
        row = asdict(spec) | {
            "probability": a.result.get("probability"),
            "verdict": a.result.get("verdict"),
            "segments": [s.probability for s in a.segments if s.probability is not None],
            "faces": [f.probability for s in a.segments for f in s.faces],
        }
        rows.append(row)
        log(json.dumps({k: row[k] for k in ("name", "kind", "probability", "verdict")}))
    return rows
