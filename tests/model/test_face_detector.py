"""The face detector is swappable: the pipeline types against the `FaceDetector` protocol, one
factory picks the class named by DFS_FACE_DETECTOR from a registry, and MTCNN is one entry."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from shared.config import MTCNNSettings, Settings
from shared.errors import ModelError
from shared.model.base import InferenceModel, model_cache
from shared.model.face_detector import (
    FACE_DETECTORS,
    Detection,
    FaceDetector,
    MTCNNDetector,
    build_face_detector,
    get_face_detector,
)
from shared.pipeline.faces import detect_faces
from shared.types import Frame


class CentreDetector(InferenceModel[list[np.ndarray], list[list[Detection]]]):
    """A stand-in detector: one "face" in the middle of every frame."""

    loads = 0

    def __init__(self, settings: Settings, device: str = "cpu") -> None:
        super().__init__(device)
        self.settings = settings

    def _load(self) -> None:
        type(self).loads += 1

    def _predict(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        out = []
        for f in frames:
            h, w = f.shape[:2]
            out.append([Detection((w / 4, h / 4, 3 * w / 4, 3 * h / 4), 0.99)])
        return out


@pytest.fixture
def centre_detector(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setitem(FACE_DETECTORS, "centre", CentreDetector)
    model_cache.clear()
    yield Settings(face_detector="centre")
    model_cache.clear()


def test_a_registered_detector_flows_through_the_pipeline(centre_detector: Settings) -> None:
    detector: FaceDetector = build_face_detector(centre_detector)
    assert isinstance(detector, CentreDetector) and detector.device == centre_detector.torch_device()
    frames = [Frame(index=i, time_s=i / 8, image=np.full((80, 120, 3), 40 * i, np.uint8)) for i in range(3)]
    crops = detect_faces(frames, detector, margin=0.0, crop_size=32)
    assert [c.frame_index for c in crops] == [0, 1, 2]
    assert crops[1].box == (30.0, 20.0, 90.0, 60.0) and crops[1].confidence == 0.99
    assert crops[2].crop.shape == (32, 32, 3) and int(crops[2].crop[16, 16, 0]) == 80


def test_the_cached_detector_is_loaded_once_per_configuration(centre_detector: Settings) -> None:
    CentreDetector.loads = 0
    first = get_face_detector(centre_detector)
    assert isinstance(first, CentreDetector) and first.loaded
    assert get_face_detector(Settings(face_detector="centre")) is first
    assert CentreDetector.loads == 1
    other = get_face_detector(Settings(face_detector="centre", mtcnn=MTCNNSettings(min_face_size=40)))
    assert other is not first  # a detector's knobs are part of its identity


def test_an_unknown_detector_is_refused_with_the_choices() -> None:
    with pytest.raises(ModelError, match=r"unknown face detector 'retina'.*DFS_FACE_DETECTOR.*mtcnn"):
        build_face_detector(Settings(face_detector="retina"))
    assert isinstance(build_face_detector(Settings()), MTCNNDetector)  # the default


def test_mtcnn_finds_the_face_on_a_generated_frame() -> None:
    from shared.media.samples import load_subject

    face = load_subject("astronaut")
    canvas = np.zeros((480, 640, 3), np.uint8)
    small = face[::2, ::2]  # 256 px photo on a black 640x480 frame
    canvas[112 : 112 + small.shape[0], 192 : 192 + small.shape[1]] = small
    detector = build_face_detector(Settings(mtcnn=MTCNNSettings(detect_scale=1.0, min_face_size=40)), "cpu")
    found = detector.predict([canvas, np.zeros((480, 640, 3), np.uint8)])
    assert len(found) == 2 and found[1] == []
    assert found[0], "MTCNN missed the astronaut's face"
    x1, y1, x2, y2 = found[0][0].box
    assert 192 <= x1 < x2 <= 192 + small.shape[1] and 112 <= y1 < y2 <= 112 + small.shape[0]
    assert found[0][0].confidence >= 0.95
