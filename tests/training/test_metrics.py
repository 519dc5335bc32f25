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
