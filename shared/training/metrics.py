"""Binary classification metrics: the seed's F1 and the field's ROC-AUC and log loss.

Implemented with numpy (the serving image does not need scikit-learn); the tests compare
every function against scikit-learn on fixed arrays.
"""

from __future__ import annotations

from collections.abc import Callable
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
    """The threshold maximising F1 on (y, p), and that F1, in O(n log n): one sort, then the
    counts at every distinct score by cumulative sums. Candidates are the scores themselves
    (and 0.5); ties go to the threshold closest to 0.5 (the least surprising one)."""
    y = np.asarray(y).astype(float)
    p = np.asarray(p, dtype=float)
    cand = np.unique(np.r_[p, 0.5])  # ascending
    order = np.argsort(p, kind="mergesort")
    ps, ys = p[order], y[order]
    # predicted positive at threshold t: p >= t, i.e. the scores from searchsorted(t, left) on
    start = np.searchsorted(ps, cand, side="left")
    pos_suffix = np.r_[np.cumsum(ys[::-1])[::-1], 0.0]  # positives among ps[i:]
    tp = pos_suffix[start]
    predicted = len(ps) - start
    fp = predicted - tp
    fn = y.sum() - tp
    denom = 2 * tp + fp + fn
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1e-12), 0.0)
    best = f1.max() if len(f1) else 0.0
    ties = np.flatnonzero(f1 >= best - 1e-12)
    t = cand[ties[np.argmin(np.abs(cand[ties] - 0.5))]]
    return float(t), max(float(best), 0.0)


def max_fpr_threshold(y: np.ndarray, p: np.ndarray, max_fpr: float = 0.05) -> float:
    """The lowest threshold whose false-positive rate on (y, p) is at most `max_fpr` (the most
    sensitive one that keeps the promise to real media), placed half-way between the highest
    real score it must clear and the next score below, so it is not fitted to one sample."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    reals = np.sort(p[y == 0])[::-1]
    if not len(reals):
        return 0.5
    allowed = int(np.floor(max_fpr * len(reals)))  # reals that may score at or above it
    if allowed >= len(reals):
        return float(np.min(p))
    above = reals[allowed]  # the highest real score that must fall below the threshold
    higher = p[p > above]
    nxt = float(higher.min()) if len(higher) else min(1.0, above + 1e-3)
    return float((above + nxt) / 2)


def bootstrap_ci(
    y: np.ndarray,
    p: np.ndarray,
    stat: Callable[[np.ndarray, np.ndarray], float | None],
    *,
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    groups: np.ndarray | None = None,
) -> tuple[float, float] | None:
    """A percentile bootstrap interval of `stat(y, p)`, resampling whole `groups` (e.g. the
    identities) when given, since samples of one person are not independent."""
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    rng = np.random.default_rng(seed)
    keys = np.asarray(groups) if groups is not None else np.arange(len(y))
    uniq = np.unique(keys)
    members = [np.flatnonzero(keys == k) for k in uniq]
    values = []
    for _ in range(n):
        pick = rng.integers(0, len(uniq), len(uniq))
        idx = np.concatenate([members[i] for i in pick])
        v = stat(y[idx], p[idx])
        if v is not None and np.isfinite(v):
            values.append(v)
    if len(values) < n // 2:
        return None
    lo, hi = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


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
