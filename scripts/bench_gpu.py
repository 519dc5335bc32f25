#!/usr/bin/env python3
"""Detector-side throughput on whatever device is available (CUDA or CPU).

Measures, on one machine in one run so the figures compare:
0. training steps of the same network (bf16 autocast on CUDA), crops/s;
1. scoring: SRM + EfficientNet + GWAP head on face crops, batched (bf16 autocast + channels_last
   on CUDA; fp32 on CPU), crops/s per batch size, for B0@224 and B4@380;
2. face detection: MTCNN on 720p frames at the pipeline's detection scale, frames/s;
3. the detector's real per-segment path (`analyze_segment`: decode → MTCNN → score) on
   segments of a 10 s 720p30 clip, cut here beforehand with the pipeline's own `split`
   (pass --segments DIR with 00000.mkv ...; the device image has no ffmpeg CLI).

    python3 scripts/bench_gpu.py --segments var/bench-segments [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench_scoring(
    device: str, backbone: str, size: int, batches: list[int], seconds: float = 3.0
) -> list[dict]:
    from shared.model.network import NetworkConfig, SRMEfficientNet

    net = SRMEfficientNet(NetworkConfig(backbone=backbone, input_size=size)).eval().to(device)
    cuda = device.startswith("cuda")
    if cuda:
        net = net.to(memory_format=torch.channels_last)
    out = []
    for b in batches:
        x = torch.rand(b, 3, size, size, device=device)
        if cuda:
            x = x.contiguous(memory_format=torch.channels_last)

        def step(x: torch.Tensor = x) -> None:
            with torch.inference_mode():
                if cuda:
                    with torch.autocast("cuda", dtype=torch.bfloat16):
                        net(x)
                else:
                    net(x)

        for _ in range(3):
            step()
        sync(device)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            step()
            n += b
        sync(device)
        rate = n / (time.perf_counter() - t0)
        out.append({"backbone": backbone, "input": size, "batch": b, "crops_per_s": round(rate, 1)})
        print(f"score {backbone}@{size} batch {b}: {rate:,.0f} crops/s", flush=True)
    return out


def bench_training(device: str, backbone: str, size: int, batch: int, seconds: float = 4.0) -> dict:
    """Training steps of the shared network: forward, focal-style BCE, backward, AdamW step."""
    from shared.model.network import NetworkConfig, SRMEfficientNet

    net = SRMEfficientNet(NetworkConfig(backbone=backbone, input_size=size)).train().to(device)
    cuda = device.startswith("cuda")
    if cuda:
        net = net.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
    x = torch.rand(batch, 3, size, size, device=device)
    if cuda:
        x = x.contiguous(memory_format=torch.channels_last)
    y = (torch.rand(batch, device=device) > 0.5).float()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        if cuda:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logit, _ = net(x)
        else:
            logit, _ = net(x)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logit.float(), y, reduction="none")
        p_t = torch.exp(-bce)
        loss = (0.25 * (1 - p_t) ** 2 * bce).mean()  # focal loss, gamma 2
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    sync(device)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += batch
    sync(device)
    rate = n / (time.perf_counter() - t0)
    print(f"train {backbone}@{size} batch {batch}: {rate:,.0f} crops/s", flush=True)
    return {"backbone": backbone, "input": size, "batch": batch, "crops_per_s": round(rate, 1)}


def bench_mtcnn(device: str, frames: int, scale: float) -> dict:
    import numpy as np

    from shared.config import MTCNNSettings, Settings
    from shared.media.samples import load_subject
    from shared.model.face_detector import build_face_detector

    face = load_subject("astronaut")
    canvas = np.zeros((720, 1280, 3), np.uint8)
    canvas[104:616, 384:896] = face
    batch = [canvas.copy() for _ in range(frames)]
    det = build_face_detector(Settings(mtcnn=MTCNNSettings(detect_scale=scale)), device)
    det.predict(batch[:2])
    sync(device)
    t0 = time.perf_counter()
    reps = 5
    for _ in range(reps):
        found = det.predict(batch)
    sync(device)
    rate = reps * frames / (time.perf_counter() - t0)
    assert all(found), "MTCNN lost the face"
    print(f"mtcnn 720p x{frames} scale {scale}: {rate:,.0f} frames/s", flush=True)
    return {"frames_per_call": frames, "detect_scale": scale, "frames_per_s": round(rate, 1)}


def bench_segments(device: str, seg_dir: Path) -> dict:
    from shared.config import Settings
    from shared.model.checkpoint import init_checkpoint
    from shared.model.classifier import FaceClassifier
    from shared.model.face_detector import build_face_detector
    from shared.pipeline.analyze import analyze_segment
    from shared.types import SegmentSpec

    ckpt = Path("/tmp/bench-b0.safetensors")
    init_checkpoint(ckpt)
    settings = Settings(device=device if device == "cpu" else "cuda", checkpoint=str(ckpt))
    clf = FaceClassifier(str(ckpt), device, 64, settings)
    det = build_face_detector(settings, device)
    files = sorted(seg_dir.glob("*.mkv"))
    specs = [SegmentSpec(i, 2.0 * i, 2.0 * (i + 1), f) for i, f in enumerate(files)]
    analyze_segment(files[0], specs[0], settings, det, clf)  # warm-up
    runs = []
    for _ in range(3):
        totals = {"decode_s": 0.0, "detect_s": 0.0, "score_s": 0.0}
        t0 = time.perf_counter()
        faces = 0
        for spec in specs:
            r = analyze_segment(spec.path, spec, settings, det, clf)
            faces += len(r.faces)
            for k in totals:
                totals[k] += r.timings[k]
        sync(device)
        totals["total_s"] = time.perf_counter() - t0
        totals["faces"] = faces
        runs.append(totals)
    best = min(runs, key=lambda r: r["total_s"])
    best = {k: round(v, 3) for k, v in best.items()}
    print(f"segments ({len(specs)} x 2 s of 720p30, serial): {best}", flush=True)
    return {"segments": len(specs), **best}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="small batches only (CPU smoke run)")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    print(f"# device {name}, torch {torch.__version__}, {os.cpu_count()} CPUs", flush=True)
    report: dict = {"device": name, "torch": torch.__version__, "cpus": os.cpu_count()}
    small = args.quick or device == "cpu"
    report["scoring"] = bench_scoring(
        device,
        "efficientnet_b0",
        224,
        [8, 32] if small else [32, 64, 256, 512],
        seconds=2.0 if small else 3.0,
    )
    report["scoring"] += bench_scoring(
        device, "efficientnet_b4", 380, [8] if small else [32, 64, 128], seconds=2.0 if small else 3.0
    )
    report["training"] = [
        bench_training(device, "efficientnet_b0", 224, 16 if small else 128, seconds=3.0 if small else 5.0)
    ]
    if not small:
        report["training"].append(bench_training(device, "efficientnet_b4", 380, 32, seconds=5.0))
    report["mtcnn"] = [
        bench_mtcnn(device, 8, 0.5),
        bench_mtcnn(device, 32, 0.5),
        bench_mtcnn(device, 32, 1.0),
    ]
    if args.segments:
        report["segments"] = bench_segments(device, args.segments)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
