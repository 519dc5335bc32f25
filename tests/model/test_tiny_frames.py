"""Frames smaller than the smallest face the detector looks for have no face; they are not an
internal error (issue 11: MTCNN's `torch.cat(): expected a non-empty list of Tensors`)."""

from __future__ import annotations

import numpy as np

from shared.config import Settings
from shared.model.face_detector import MTCNNDetector


def test_tiny_and_thin_frames_have_no_faces() -> None:
    detector = MTCNNDetector(Settings(), "cpu")
    detector.load()
    sizes = [(1, 1), (2, 2), (48, 48), (40, 640), (62, 62), (640, 20), (1080, 16)]
    frames = [np.full((h, w, 3), 128, np.uint8) for h, w in sizes]
    assert detector.predict(frames) == [[] for _ in sizes]
    for scale in (1.0, 0.25):  # at full and reduced detection resolution alike
        settings = Settings()
        settings.mtcnn.detect_scale = scale
        small = MTCNNDetector(settings, "cpu")
        small.load()
        assert small.predict(frames) == [[] for _ in sizes]
