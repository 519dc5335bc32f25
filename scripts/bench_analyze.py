#!/usr/bin/env python3
"""Time `deepfakestream analyze` on a 10 s 720p30 H.264 clip, stage by stage.

The clip is generated from scikit-image's astronaut photo at a camera-like bit rate (film
grain so the bit rate is really spent). Reports one cold run (a fresh process: imports and
model loading included, as a user's first `analyze`) and warm in-process runs (models cached,
as in a worker), for each segmentation mode.

    .venv/bin/python scripts/bench_analyze.py [--checkpoint PATH] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.media.samples import make_clip  # noqa: E402


def cold_run(clip: Path, checkpoint: str | None, mode: str) -> tuple[float, dict[str, float]]:
    env = dict(os.environ, DFS_SEGMENT_MODE=mode, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    if checkpoint:
        env["DFS_CHECKPOINT"] = checkpoint
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", "analyze", str(clip), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t
    return wall, json.loads(out.stdout)["timings"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()

    import torch

    from shared.config import Settings
    from shared.pipeline.runner import analyze_file

    with tempfile.TemporaryDirectory(prefix="dfs-bench-") as tmp:
        make = partial(
            make_clip, seconds=args.seconds, width=1280, height=720, fps=30, bitrate="5M", grain=12
        )
        clips = {
            "2 s GOP": make(Path(tmp) / "gop2.mp4"),
            "x264 default GOP (250)": make(Path(tmp) / "gop250.mp4", keyint=250),
        }
        print(
            f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads"
        )
        for name, clip in clips.items():
            size = clip.stat().st_size / 1e6
            for mode in ("auto", "copy", "reencode"):
                wall, cold = cold_run(clip, args.checkpoint, mode)
                settings = Settings(checkpoint=args.checkpoint, segment_mode=mode)  # type: ignore[arg-type]
                analyze_file(clip, settings)  # warm-up: models cached in this process
                warm = []
                for _ in range(args.runs):
                    a = analyze_file(clip, settings)
                    warm.append(a)
                totals = [a.timings["total_s"] for a in warm]
                med = warm[totals.index(statistics.median(totals))]
                t = med.timings
                print(
                    f"| {name} ({size:.1f} MB) | {mode} | {len(med.segments)} | {wall:.2f} | {t['total_s']:.2f} | "
                    f"{t.get('split_s', 0):.2f} | {t['decode_s']:.2f} | {t['detect_s']:.2f} | {t['score_s']:.2f} | "
                    f"{med.result['faces_scored']} |"
                )
                print(f"  cold run stages: {cold}", file=sys.stderr)


if __name__ == "__main__":
    main()
