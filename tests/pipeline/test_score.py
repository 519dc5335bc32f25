"""score_faces: one forward pass per classifier batch, a cancel check between batches, and
every face keeps where it was found; segment_probability: the mean of the faces."""

from __future__ import annotations

import numpy as np
import pytest

from shared.errors import Cancelled
from shared.pipeline.score import score_faces, segment_probability
from shared.types import FaceCrop
from tests.pipeline.fakes import HEATMAP, FakeClassifier


def crops(levels: list[int], size: int = 32) -> list[FaceCrop]:
    """One crop per grey level, each from its own frame, at a box that names it."""
    return [
        FaceCrop(
            frame_index=i,
            face_index=i % 2,
            time_s=i * 0.5,
            box=(float(i), float(i + 1), float(i + 10), float(i + 11)),
            confidence=0.9 + i / 1000,
            crop=np.full((size, size, 3), level, np.uint8),
        )
        for i, level in enumerate(levels)
    ]


def test_each_face_gets_its_own_probability_and_keeps_its_place() -> None:
    given = crops([0, 255, 51, 204, 102])
    scored = score_faces(given, FakeClassifier(batch_size=2), cancel_check=lambda: None)
    assert [f.probability for f in scored] == pytest.approx([0.0, 1.0, 0.2, 0.8, 0.4])
    for crop, face in zip(given, scored, strict=True):
        assert (face.frame_index, face.face_index, face.time_s) == (
            crop.frame_index,
            crop.face_index,
            crop.time_s,
        )
        assert face.box == crop.box and face.confidence == crop.confidence
        assert face.crop is crop.crop, "the model input is kept for the evidence thumbnails"
        assert face.heatmap is not None and face.heatmap.shape == HEATMAP
        assert face.heatmap.max() == pytest.approx(face.probability)


def test_with_a_cancel_check_it_runs_in_the_classifiers_batches_checking_before_each() -> None:
    classifier = FakeClassifier(batch_size=2)
    order: list[str] = []
    original = classifier.predict

    def predict(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order.append(f"batch of {len(inputs)}")
        return original(inputs)

    classifier.predict = predict  # type: ignore[method-assign]
    score_faces(crops([10] * 5), classifier, cancel_check=lambda: order.append("check"))
    assert order == ["check", "batch of 2", "check", "batch of 2", "check", "batch of 1"]


def test_without_a_cancel_check_all_faces_go_in_one_call() -> None:
    classifier = FakeClassifier(batch_size=2)
    assert len(score_faces(crops([10] * 5), classifier)) == 5
    assert classifier.batches == [5]


def test_a_cancellation_between_batches_stops_the_scoring() -> None:
    classifier = FakeClassifier(batch_size=2)
    checks = 0

    def cancel_on_second_check() -> None:
        nonlocal checks
        checks += 1
        if checks == 2:
            raise Cancelled("job was cancelled")

    with pytest.raises(Cancelled):
        score_faces(crops([10] * 6), classifier, cancel_check=cancel_on_second_check)
    assert classifier.batches == [2], "no batch runs after the job was cancelled"


def test_no_crops_means_no_forward_pass_and_no_check() -> None:
    classifier = FakeClassifier()

    def never() -> None:
        raise AssertionError("checked with nothing to score")

    assert score_faces([], classifier, cancel_check=never) == []
    assert classifier.batches == []


def test_segment_probability_is_the_mean_of_its_faces_or_none_without_one() -> None:
    assert segment_probability([0.2, 0.4, 0.9]) == pytest.approx(0.5)
    assert segment_probability([0.7]) == pytest.approx(0.7)
    assert segment_probability(np.array([0.1, 0.3], np.float32)) == pytest.approx(0.2)
    assert segment_probability([]) is None
    assert isinstance(segment_probability([1, 0]), float)
