#!/usr/bin/env python3
"""Measure a checkpoint through the whole pipeline on the project's own generated clips.

Real clips: each offline face photo (astronaut, grace_hopper, cameraman) animated by
`make_clip` with different seeds of framing. Fake clips: the same photos with the face
self-blended (a pseudo-fake swap of the face with a jittered copy of itself) before animating.
Every clip goes through `analyze_file` (probe, split, decode, MTCNN, score, aggregate) and
the video-level probabilities are scored.

    .venv/bin/python scripts/eval_pipeline_clips.py [--checkpoint PATH] [--per-photo 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def blended_photo(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo with its face replaced by a self-blended version of itself."""
    from PIL import Image

    from shared.config import Settings
    from shared.model.face_detector import build_face_detector
    from shared.pipeline.faces import crop_square, square_box
    from shared.training.datasets.selfblend import BlendConfig, self_blend

    base = Settings()
    mtcnn = base.mtcnn.model_copy(update={"detect_scale": 1.0, "min_face_size": 40, "max_faces_per_frame": 1})
    det = build_face_detector(base.model_copy(update={"mtcnn": mtcnn}), "cpu")
    box = det.predict([photo])[0][0].box
    size = 256
    crop = crop_square(photo, box, 0.3, size)
    fake, _ = self_blend(crop, rng, margin=0.3, cfg=BlendConfig(color_jitter=0.3, blend_ratios=(0.75, 1.0)))
    x1, y1, x2, y2 = square_box(box, 0.3)
    out = photo.copy()
    patch = np.asarray(Image.fromarray(fake).resize((x2 - x1, y2 - y1), Image.Resampling.LANCZOS))
    h, w = out.shape[:2]
    sx1, sy1, sx2, sy2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
    out[sy1:sy2, sx1:sx2] = patch[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--per-photo", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from shared.config import Settings
    from shared.media.samples import make_clip
    from shared.pipeline.runner import analyze_file
    from shared.training.metrics import binary_metrics
    from shared.training.photos import offline_photo

    settings = Settings(checkpoint=args.checkpoint)
    rng = np.random.default_rng(2026)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dfs-evalclips-") as tmp:
        for name in ("astronaut", "grace_hopper", "cameraman"):
            photo = offline_photo(name)
            for i in range(args.per_photo):
                for label, image in ((0, photo), (1, blended_photo(photo, rng))):
                    clip = Path(tmp) / f"{name}-{i}-{label}.mp4"
                    make_clip(
                        clip, seconds=4, width=854, height=480, fps=25, photo_array=image, crf=20 + 3 * i
                    )
                    a = analyze_file(clip, settings)
                    rows.append(
                        {
                            "clip": clip.name,
                            "label": label,
                            "probability": a.result["probability"],
                            "verdict": a.result["verdict"],
                            "faces": a.result["faces_scored"],
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)
        threshold = a.result["threshold"]
        model = a.result["model"]
    scored = [r for r in rows if r["probability"] is not None]
    y = np.array([r["label"] for r in scored])
    p = np.array([r["probability"] for r in scored])
    m = binary_metrics(y, p, threshold)
    print(
        f"model {model['name']} {model['version']}: {len(scored)}/{len(rows)} clips with faces; "
        f"F1 {m.f1:.3f}, ROC-AUC {m.roc_auc}, log loss {m.log_loss:.3f}, confusion {m.confusion}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"model": model, "threshold": threshold, "clips": rows, "metrics": m.to_dict()}, indent=2
            )
        )


if __name__ == "__main__":
    main()
