from __future__ import annotations

import pytest

from shared.pipeline.aggregate import aggregate, result_document


def test_mean_over_segments_with_faces_only() -> None:
    v = aggregate([0.9, None, 0.5, None], threshold=0.6, faces_scored=7)
    assert v.probability == pytest.approx(0.7)
    assert v.verdict == "fake"
    assert v.faces_scored == 7


def test_at_threshold_is_fake_below_is_real() -> None:
    assert aggregate([0.5], threshold=0.5).verdict == "fake"
    assert aggregate([0.4999], threshold=0.5).verdict == "real"


def test_no_face_anywhere_has_no_probability() -> None:
    v = aggregate([None, None], threshold=0.5)
    assert v.verdict == "no_face" and v.probability is None
    assert aggregate([], threshold=0.5).verdict == "no_face"


def test_result_document_flags_untrained_models() -> None:
    v = aggregate([0.2], threshold=0.5, faces_scored=1)
    model = {"name": "m", "version": "untrained", "sha256": "0" * 64}
    doc = result_document(v, [], model, model_trained=False)
    assert doc["verdict"] == "real" and doc["probability"] == 0.2 and "untrained" in doc["warning"]
    assert "warning" not in result_document(v, [], model, model_trained=True)
