"""Binary classification metrics: the seed's F1 and the field's ROC-AUC and log loss.

Implemented with numpy (the serving image does not need scikit-learn); the tests compare
every function against scikit-learn on fixed arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

EPS = 1e-7


@dataclass(frozen=True)
class BinaryMetrics:
    n: int
    positives: int
    threshold: float
    f1: float
    precision: float
    recall: float
    accuracy: float
    roc_auc: float | None
    log_loss: float
    confusion: dict[str, int]  # tn, fp, fn, tp

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def confusion(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, int]:
    pred = p >= threshold
    y = y.astype(bool)
    return {
        "tn": int(np.sum(~pred & ~y)),
        "fp": int(np.sum(pred & ~y)),
        "fn": int(np.sum(~pred & y)),
        "tp": int(np.sum(pred & y)),
    }


def precision_recall_f1(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[float, float, float]:
    c = confusion(y, p, threshold)
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def roc_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds), thresholds decreasing, starting at +inf like scikit-learn."""
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order].astype(float)
    distinct = np.where(np.diff(p_sorted))[0]
    idx = np.r_[distinct, len(p_sorted) - 1]
    tps = np.cumsum(y_sorted)[idx]
    fps = 1 + idx - tps
    tps, fps = np.r_[0, tps], np.r_[0, fps]
    thresholds = np.r_[np.inf, p_sorted[idx]]
    pos, neg = tps[-1], fps[-1]
    tpr = tps / pos if pos else np.zeros_like(tps)
    fpr = fps / neg if neg else np.zeros_like(fps)
    return fpr, tpr, thresholds


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under the ROC curve; None when only one class is present (it is undefined)."""
    if len(np.unique(y)) < 2:
        return None
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.trapezoid(tpr, fpr))


def precision_recall_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-p, kind="mergesort")
    y_sorted = y[order].astype(float)
    tps = np.cumsum(y_sorted)
    k = np.arange(1, len(y) + 1)
    precision = tps / k
    recall = tps / max(1.0, y_sorted.sum())
    return np.r_[1.0, precision], np.r_[0.0, recall]


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p.astype(float), EPS, 1 - EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """The threshold maximising F1 on (y, p), and that F1. Candidates are the scores
    themselves; ties go to the threshold closest to 0.5 (the least surprising one)."""
    best_t, best_f1 = 0.5, -1.0
    for t in np.unique(np.r_[p, 0.5]):
        _, _, f1 = precision_recall_f1(y, p, float(t))
        if f1 > best_f1 + 1e-12 or (abs(f1 - best_f1) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best_t, best_f1 = float(t), f1
    return best_t, max(best_f1, 0.0)


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> BinaryMetrics:
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    precision, recall, f1 = precision_recall_f1(y, p, threshold)
    c = confusion(y, p, threshold)
    return BinaryMetrics(
        n=len(y),
        positives=int(y.sum()),
        threshold=float(threshold),
        f1=f1,
        precision=precision,
        recall=recall,
        accuracy=(c["tp"] + c["tn"]) / len(y) if len(y) else 0.0,
        roc_auc=roc_auc(y, p),
        log_loss=log_loss(y, p) if len(y) else float("nan"),
        confusion=c,
    )
