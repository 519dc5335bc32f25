#!/usr/bin/env python3
"""SRM clipping, measured: how much of the noise maps clipping truncates on real faces, and how
checkpoints trained with and without it score the same held-out faces.

Train the two variants with the same config but `model.srm_clip: 3.0` and `model.srm_clip: null`
(the card records it as `network.srm.clip`), then:

    python3 scripts/srm_clip_report.py --faces var/test-faces run-clip/best.safetensors run-noclip/best.safetensors

prints one JSON document: the fraction of SRM responses at or beyond ±3 (and ±10, ±30) on the
faces, and per checkpoint its clip setting and `evaluate`'s face, segment and video metrics
(ROC-AUC, log loss, F1 at the card's threshold).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoints", nargs="+", help="checkpoints to compare (safetensors)")
    parser.add_argument("--faces", type=Path, required=True, help="an extract-faces folder with labels")
    parser.add_argument("--selfblend", action="store_true", help="add self-blends of the real faces")
    parser.add_argument("--max-faces", type=int, default=256, help="faces used for the saturation figure")
    args = parser.parse_args()

    import numpy as np
    import torch
    from PIL import Image

    from shared.model.card import read_meta
    from shared.model.srm import clip_saturation
    from shared.training.evaluate import evaluate
    from shared.training.extract import read_index

    records = read_index(args.faces)[: args.max_faces]
    crops = [np.asarray(Image.open(args.faces / r.path).convert("RGB")) for r in records]
    sizes = {c.shape for c in crops}
    x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255 if len(sizes) == 1 else None
    saturation = (
        {str(c): round(clip_saturation(x, c), 4) for c in (3.0, 10.0, 30.0)} if x is not None else None
    )
    report = {"faces": str(args.faces), "faces_for_saturation": len(crops), "saturation": saturation}
    report["checkpoints"] = [
        {
            "path": ckpt,
            "srm_clip": read_meta(Path(ckpt)).network.get("srm", {}).get("clip"),
            "levels": evaluate(ckpt, args.faces, selfblend=args.selfblend)["levels"],
        }
        for ckpt in args.checkpoints
    ]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
