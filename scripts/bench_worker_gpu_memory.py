#!/usr/bin/env python3
"""GPU memory of one detector worker process, for sizing (how many detector processes fit a GPU).

Each configuration runs in a fresh process, as a Celery pool process would: load MTCNN and the
classifier (an untrained checkpoint of the given backbone: memory does not depend on the
weights), detect faces in 32 720p frames at the pipeline's detection scale, score a batch of
face crops (bf16 autocast + channels_last, as the worker does), and report torch's peak
allocation and the whole process's GPU memory (CUDA context included) from nvidia-smi.

    python3 scripts/bench_worker_gpu_memory.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CONFIGS = [("efficientnet_b0", 64), ("efficientnet_b0", 256), ("efficientnet_b4", 64)]


def process_gpu_mib(pid: int) -> float | None:
    out = subprocess.run(
        ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for line in out.splitlines():
        p, _, mib = line.partition(",")
        if p.strip() == str(pid):
            return float(mib)
    return None


def measure(backbone: str, batch: int) -> dict[str, object]:
    import numpy as np
    import torch
    from skimage.data import astronaut

    from shared.config import Settings
    from shared.model.architectures import BACKBONES, NetworkConfig
    from shared.model.checkpoint import init_checkpoint
    from shared.model.classifier import FaceClassifier
    from shared.model.face_detector import build_face_detector

    mib = 1024**2
    tmp = Path(tempfile.mkdtemp())
    ckpt = tmp / f"{backbone}.safetensors"
    init_checkpoint(ckpt, NetworkConfig(backbone=backbone, input_size=BACKBONES[backbone]))
    settings = Settings(device="cuda", checkpoint=str(ckpt), data_dir=tmp)
    detector = build_face_detector(settings, "cuda")
    detector.load()
    classifier = FaceClassifier(str(ckpt), "cuda", batch_size=batch, settings=settings)
    classifier.load()
    torch.cuda.synchronize()
    loaded = torch.cuda.memory_allocated() / mib
    process_loaded = process_gpu_mib(os.getpid())

    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[104:616, 384:896] = astronaut()
    faces = detector.predict([frame] * 32)
    size = classifier.input_size
    crops = np.random.default_rng(0).integers(0, 255, (batch, size, size, 3), dtype=np.uint8)
    for _ in range(3):
        classifier.predict(crops)
    torch.cuda.synchronize()
    return {
        "backbone": backbone,
        "input_size": size,
        "score_batch": batch,
        "faces_found_in_32_frames": sum(len(f) for f in faces),
        "models_loaded_mib": round(loaded, 1),
        "peak_allocated_mib": round(torch.cuda.max_memory_allocated() / mib, 1),
        "peak_reserved_mib": round(torch.cuda.max_memory_reserved() / mib, 1),
        "process_after_load_mib": process_loaded,
        "process_peak_mib": process_gpu_mib(os.getpid()),
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--one", nargs=2, metavar=("BACKBONE", "BATCH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]))))
        return
    results = []
    for backbone, batch in CONFIGS:
        out = subprocess.run(
            [sys.executable, __file__, "--one", backbone, str(batch)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
