"""Our metrics agree with scikit-learn's on fixed arrays."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from shared.training.metrics import best_f1_threshold, binary_metrics, log_loss, roc_auc, roc_curve

Y = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1])
P = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.55, 0.55, 0.3, 0.05, 0.7, 0.65])


def test_against_scikit_learn() -> None:
    m = binary_metrics(Y, P, threshold=0.5)
    pred = (P >= 0.5).astype(int)
    assert m.f1 == pytest.approx(sk.f1_score(Y, pred))
    assert m.precision == pytest.approx(sk.precision_score(Y, pred))
    assert m.recall == pytest.approx(sk.recall_score(Y, pred))
    assert m.accuracy == pytest.approx(sk.accuracy_score(Y, pred))
    assert m.roc_auc == pytest.approx(sk.roc_auc_score(Y, P))
    assert m.log_loss == pytest.approx(sk.log_loss(Y, P))
    tn, fp, fn, tp = sk.confusion_matrix(Y, pred).ravel()
    assert m.confusion == {"tn": tn, "fp": fp, "fn": fn, "tp": tp}


def test_roc_curve_matches_scikit_learn() -> None:
    fpr, tpr, thr = roc_curve(Y, P)
    sfpr, stpr, sthr = sk.roc_curve(Y, P, drop_intermediate=False)
    assert np.allclose(fpr, sfpr) and np.allclose(tpr, stpr)
    assert np.allclose(thr[1:], sthr[1:])


def test_best_threshold_maximises_f1() -> None:
    t, f1 = best_f1_threshold(Y, P)
    grid = [sk.f1_score(Y, (c <= P).astype(int)) for c in np.unique(P)]
    assert f1 == pytest.approx(max(grid))
    assert sk.f1_score(Y, (t <= P).astype(int)) == pytest.approx(f1)


def test_edge_cases() -> None:
    assert roc_auc(np.array([1, 1]), np.array([0.2, 0.9])) is None, "undefined with one class"
    assert log_loss(np.array([1, 0]), np.array([1.0, 0.0])) < 1e-6, "clipped, finite"
    perfect = binary_metrics(np.array([0, 1]), np.array([0.1, 0.9]))
    assert perfect.f1 == 1.0 and perfect.roc_auc == 1.0


def test_best_threshold_matches_brute_force_with_ties() -> None:
    """The O(n log n) search finds the same F1 as trying every candidate one by one."""
    from shared.training.metrics import precision_recall_f1

    rng = np.random.default_rng(3)
    for n in (1, 7, 200):
        y = rng.integers(0, 2, n)
        p = np.round(rng.random(n), 1)  # many ties
        t, f1 = best_f1_threshold(y, p)
        brute = max(precision_recall_f1(y, p, float(c))[2] for c in np.unique(np.r_[p, 0.5]))
        assert f1 == pytest.approx(brute)
        assert precision_recall_f1(y, p, t)[2] == pytest.approx(f1)


def test_max_fpr_threshold_keeps_the_promise() -> None:
    from shared.training.metrics import max_fpr_threshold

    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(100, int), np.ones(100, int)]
    p = np.r_[rng.beta(2, 5, 100), rng.beta(5, 2, 100)]
    t = max_fpr_threshold(y, p, 0.05)
    fpr = np.mean(p[y == 0] >= t)
    assert fpr <= 0.05
    # the most sensitive such threshold: one real more above it would break the promise
    reals = np.sort(p[y == 0])[::-1]
    assert reals[5] < t <= reals[4]


def test_bootstrap_interval_contains_the_estimate_and_narrows_with_data() -> None:
    from shared.training.metrics import bootstrap_ci

    rng = np.random.default_rng(2)

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.r_[np.zeros(n, int), np.ones(n, int)]
        return y, np.r_[rng.normal(0, 1, n), rng.normal(1, 1, n)]

    y, p = sample(20)
    lo, hi = bootstrap_ci(y, p, roc_auc, n=300)
    assert lo <= roc_auc(y, p) <= hi
    y2, p2 = sample(400)
    lo2, hi2 = bootstrap_ci(y2, p2, roc_auc, n=300)
    assert hi2 - lo2 < hi - lo
