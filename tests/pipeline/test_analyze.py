"""analyze_segment / analyze_image: real decoding (ffmpeg, Pillow) of a real clip and photo,
with stand-in models so the numbers are known: each stage is timed, the segment's
probability is the mean of its faces', and a segment without a face has none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.config import Settings
from shared.errors import Cancelled
from shared.media.sniff import JPEG, MP4
from shared.pipeline.analyze import analyze_image, analyze_segment
from shared.pipeline.probe import probe
from shared.pipeline.segment import split
from shared.types import SegmentSpec
from tests.pipeline.fakes import FakeClassifier, FakeDetector

STAGES = {"decode_s", "detect_s", "score_s"}


@pytest.fixture(scope="module")
def segments(face_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> list[SegmentSpec]:
    """The 6 s clip split into its three 2 s Matroska segments, as the segmenter stores them."""
    return split(
        face_clip, MP4, probe(face_clip), tmp_path_factory.mktemp("segments"), segment_seconds=2, mode="copy"
    )


@pytest.fixture
def settings() -> Settings:
    return Settings(segment_seconds=2.0, frames_per_segment=4)


def two_faces_then_none_then_one() -> FakeDetector:
    return FakeDetector(
        [
            [((300.0, 80.0, 420.0, 220.0), 0.99), ((600.0, 300.0, 660.0, 370.0), 0.93)],
            [],
            [((0.0, 0.0, 120.0, 140.0), 0.95)],
        ]
    )


def test_a_segment_is_sampled_in_its_time_range_and_scored_as_the_mean_of_its_faces(
    segments: list[SegmentSpec], settings: Settings
) -> None:
    spec = segments[1]
    detector, classifier = two_faces_then_none_then_one(), FakeClassifier(input_size=48)
    result = analyze_segment(spec.path, spec, settings, detector, classifier)

    assert (result.index, result.start_s, result.end_s) == (1, spec.start_s, spec.end_s)
    assert result.frames_sampled == 4
    assert detector.calls == [[(480, 854, 3)] * 4], "all sampled frames go to the detector in one call"
    assert [(f.frame_index, f.face_index) for f in result.faces] == [(0, 0), (0, 1), (2, 0)]
    assert all(spec.start_s <= f.time_s <= spec.end_s for f in result.faces), (
        "face times are times in the video"
    )
    probabilities = [f.probability for f in result.faces]
    assert len(set(probabilities)) == 3, "the stand-in scores each crop by its own pixels"
    assert result.probability == pytest.approx(np.mean(probabilities))
    assert set(result.timings) == STAGES and all(v >= 0 for v in result.timings.values())


def test_a_segment_without_a_face_has_no_probability_and_is_not_scored(
    segments: list[SegmentSpec], settings: Settings
) -> None:
    spec = segments[0]
    classifier = FakeClassifier()
    result = analyze_segment(spec.path, spec, settings, FakeDetector(), classifier)
    assert result.probability is None and result.faces == [] and result.face_count == 0
    assert result.frames_sampled == 4
    assert classifier.batches == []
    assert set(result.timings) == STAGES


def test_a_cancelled_job_stops_before_detection(segments: list[SegmentSpec], settings: Settings) -> None:
    spec = segments[2]
    detector = two_faces_then_none_then_one()

    def cancelled() -> None:
        raise Cancelled("job was cancelled")

    with pytest.raises(Cancelled):
        analyze_segment(spec.path, spec, settings, detector, FakeClassifier(), cancel_check=cancelled)
    assert detector.calls == []


def test_an_image_is_one_frame_one_segment(face_image: Path, settings: Settings) -> None:
    detector = FakeDetector([[((100.0, 60.0, 260.0, 240.0), 0.98), ((10.0, 10.0, 40.0, 40.0), 0.9)]])
    classifier = FakeClassifier(input_size=64, batch_size=1)
    checks: list[int] = []
    result = analyze_image(
        face_image, JPEG, settings, detector, classifier, cancel_check=lambda: checks.append(1)
    )

    width, height = Image.open(face_image).size
    assert detector.calls == [[(height, width, 3)]], "the whole photo, decoded once, upright RGB"
    assert (result.index, result.start_s, result.end_s, result.frames_sampled) == (0, 0.0, 0.0, 1)
    assert [f.time_s for f in result.faces] == [0.0, 0.0]
    assert result.probability == pytest.approx(np.mean([f.probability for f in result.faces]))
    assert classifier.batches == [1, 1], "scored in the classifier's batches of one"
    assert len(checks) >= 3, "checked before detection, before scoring and before each batch"
    assert set(result.timings) == STAGES


def test_an_image_without_a_face(face_image: Path, settings: Settings) -> None:
    result = analyze_image(face_image, JPEG, settings, FakeDetector(), FakeClassifier())
    assert result.probability is None and result.faces == [] and result.frames_sampled == 1
