"""`deepfakestream evaluate`: measure a checkpoint on extracted faces, at face, segment and
video level, optionally calibrate its threshold, and write a report (markdown + plots).

Levels follow the service's own aggregation, by calling its functions: a segment's probability
is `shared.pipeline.score.segment_probability` of its faces' (segments are `segment_seconds`
slices of a sample's timeline, default the served DFS_SEGMENT_SECONDS), a video's is
`shared.pipeline.aggregate.video_probability` of its segments'.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

import numpy as np

from shared.model.checkpoint import update_meta
from shared.pipeline.aggregate import video_probability
from shared.pipeline.score import segment_probability
from shared.training.data import FaceCrops
from shared.training.extract import check_extraction, read_index
from shared.training.metrics import best_f1_threshold, binary_metrics, precision_recall_curve, roc_curve

Level = Literal["face", "segment", "video"]


def level_scores(
    samples: list[str],
    segments: list[int],
    probs: np.ndarray,
    labels: np.ndarray,
    aggregation: str = "mean",
) -> dict[Level, tuple[np.ndarray, np.ndarray]]:
    """Face scores → (labels, probabilities) at face, segment and video level, aggregated by
    serving's own functions (`segment_probability`, `video_probability`), so a change to
    them changes evaluation too. `aggregation`: the checkpoint card's."""
    if aggregation != "mean":
        return _level_scores_over_faces(samples, segments, probs, labels, aggregation)
    seg: dict[tuple[str, int], list[float]] = defaultdict(list)
    seg_label: dict[tuple[str, int], int] = {}
    for s, k, p, y in zip(samples, segments, probs, labels, strict=True):
        seg[(s, k)].append(float(p))
        seg_label[(s, k)] = int(y)
    seg_keys = sorted(seg)  # every segment here has at least one face
    seg_p = np.array([_known(segment_probability(seg[k])) for k in seg_keys])
    seg_y = np.array([seg_label[k] for k in seg_keys])
    vid: dict[str, list[float]] = defaultdict(list)
    vid_label: dict[str, int] = {}
    for (s, _), p, y in zip(seg_keys, seg_p, seg_y, strict=True):
        vid[s].append(float(p))
        vid_label[s] = int(y)
    vid_keys = sorted(vid)
    return {
        "face": (labels.astype(int), probs),
        "segment": (seg_y, seg_p),
        "video": (
            np.array([vid_label[k] for k in vid_keys]),
            np.array([_known(video_probability(vid[k])) for k in vid_keys]),
        ),
    }


def _level_scores_over_faces(
    samples: list[str], segments: list[int], probs: np.ndarray, labels: np.ndarray, aggregation: str
) -> dict[Level, tuple[np.ndarray, np.ndarray]]:
    """Levels for an aggregation over faces (`confident`): a segment's and a video's
    probability come from their faces directly, as serving computes them."""
    seg: dict[tuple[str, int], list[float]] = defaultdict(list)
    vid: dict[str, list[float]] = defaultdict(list)
    label: dict[str, int] = {}
    for s, k, p, y in zip(samples, segments, probs, labels, strict=True):
        seg[(s, k)].append(float(p))
        vid[s].append(float(p))
        label[s] = int(y)
    seg_keys, vid_keys = sorted(seg), sorted(vid)
    return {
        "face": (labels.astype(int), probs),
        "segment": (
            np.array([label[s] for s, _ in seg_keys]),
            np.array([_known(segment_probability(seg[k], aggregation=aggregation)) for k in seg_keys]),
        ),
        "video": (
            np.array([label[s] for s in vid_keys]),
            np.array(
                [
                    _known(video_probability([], aggregation=aggregation, faces=[(p,) for p in vid[s]]))
                    for s in vid_keys
                ]
            ),
        ),
    }


def _known(p: float | None) -> float:
    assert p is not None, "a level with faces has a probability"
    return p


def evaluate(
    checkpoint: str,
    data: Path,
    *,
    selfblend: bool = False,
    segment_seconds: float | None = None,
    calibrate: bool = False,
    threshold_level: Level | Literal["auto"] = "auto",
    report_dir: Path | None = None,
    dataset_name: str | None = None,
    device: str = "cpu",
    batch_size: int = 32,
    seed: int = 1234,
) -> dict[str, Any]:
    """Score every face of `data`; return (and optionally write) metrics per level."""
    from shared.config import Settings, get_settings
    from shared.model.classifier import FaceClassifier

    if segment_seconds is None:
        segment_seconds = get_settings().segment_seconds
    classifier = FaceClassifier(checkpoint, device, batch_size, Settings())
    meta = classifier.meta
    records = read_index(data)
    check_extraction(data, meta.crop, what=f"{meta.name} {meta.version}", check_size=False)
    ds = FaceCrops(
        records,
        data,
        input_size=classifier.input_size,
        selfblend=selfblend,
        train=False,
        margin=classifier.face_margin,  # self-blends are placed where the checkpoint's crops put the face
        seed=seed,
    )
    crops, labels, samples, segments = [], [], [], []
    for i, (record, blended, label) in enumerate(ds.items):
        crop, _ = ds.raw(i)
        crops.append(crop)
        labels.append(label)
        # a blended copy is another "video": its own sample, same timeline
        samples.append(record.sample + ("#selfblend" if blended else ""))
        segments.append(int(record.time_s // segment_seconds))
    probs, _ = classifier.predict(np.stack(crops)) if crops else (np.zeros(0), None)
    y = np.array(labels)
    per_level = level_scores(samples, segments, probs, y, aggregation=meta.aggregation)

    if threshold_level == "auto":
        vy = per_level["video"][0]
        threshold_level = "video" if min(int(vy.sum()), int(len(vy) - vy.sum())) >= 10 else "face"
    chosen_y, chosen_p = per_level[threshold_level]
    calibrated, _ = best_f1_threshold(chosen_y, chosen_p)
    threshold = calibrated if calibrate else meta.threshold
    results: dict[str, Any] = {
        "checkpoint": {"name": meta.name, "version": meta.version, "sha256": classifier.identity.sha256},
        "data": {
            "path": str(data),
            "name": dataset_name or data.name,
            "faces": len(records),
            "selfblend": selfblend,
            "segment_seconds": segment_seconds,
        },
        "threshold": threshold,
        "threshold_source": f"F1-optimal at {threshold_level} level on this data"
        if calibrate
        else "checkpoint",
        "levels": {lvl: binary_metrics(yy, pp, threshold).to_dict() for lvl, (yy, pp) in per_level.items()},
    }
    if calibrate:
        metrics = dict(meta.metrics)
        metrics[results["data"]["name"]] = {"data": results["data"], **results["levels"]}
        update_meta(classifier.checkpoint.path, threshold=threshold, metrics=metrics)
    if report_dir is not None:
        write_report(results, per_level, report_dir)
    return results


def write_report(
    results: dict[str, Any], per_level: dict[Level, tuple[np.ndarray, np.ndarray]], out: Path
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 5))
    for lvl, (y, p) in per_level.items():
        if len(np.unique(y)) == 2:
            fpr, tpr, _ = roc_curve(y, p)
            ax.plot(fpr, tpr, label=f"{lvl} (AUC {results['levels'][lvl]['roc_auc']:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 5))
    for lvl, (y, p) in per_level.items():
        if len(np.unique(y)) == 2:
            precision, recall = precision_recall_curve(y, p)
            ax.plot(recall, precision, label=lvl)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(out / "pr.png", dpi=100)
    plt.close(fig)

    ck = results["checkpoint"]
    lines = [
        f"# Evaluation of {ck['name']} {ck['version']}",
        "",
        f"- checkpoint sha256: `{ck['sha256']}`",
        f"- data: `{results['data']['path']}` ({results['data']['faces']} faces"
        + (", plus a self-blended pseudo-fake of each real face" if results["data"]["selfblend"] else "")
        + ")",
        f"- threshold: {results['threshold']:.4f} ({results['threshold_source']})",
        "",
        "| level | n | fakes | F1 | precision | recall | ROC-AUC | log loss | TN | FP | FN | TP |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lvl, m in results["levels"].items():
        c = m["confusion"]
        auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.4f}"
        lines.append(
            f"| {lvl} | {m['n']} | {m['positives']} | {m['f1']:.4f} | {m['precision']:.4f} | {m['recall']:.4f} | "
            f"{auc} | {m['log_loss']:.4f} | {c['tn']} | {c['fp']} | {c['fn']} | {c['tp']} |"
        )
    lines += ["", "![ROC](roc.png) ![Precision-recall](pr.png)", ""]
    (out / "report.md").write_text("\n".join(lines))
    (out / "metrics.json").write_text(json.dumps(results, indent=2))
    return out / "report.md"
