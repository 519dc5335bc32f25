"""detect_faces: one detector call for all frames, and square, model-sized crops centred on
each face, zero-padded where the square leaves the frame."""

from __future__ import annotations

import numpy as np
import pytest

from shared.pipeline.faces import detect_faces, square_box
from shared.types import Frame
from tests.pipeline.fakes import FakeDetector


def frame(index: int, image: np.ndarray, fps: float = 25.0) -> Frame:
    return Frame(index=index, time_s=index / fps, image=image)


def black(h: int = 100, w: int = 200) -> np.ndarray:
    return np.zeros((h, w, 3), np.uint8)


def test_a_tight_crop_is_exactly_the_face() -> None:
    image = black()
    image[40:60, 90:110] = (200, 100, 50)  # a 20×20 "face"
    detector = FakeDetector([[((90.0, 40.0, 110.0, 60.0), 0.97)]])
    [face] = detect_faces([frame(0, image)], detector, margin=0.0, crop_size=20)
    assert face.crop.shape == (20, 20, 3) and face.crop.dtype == np.uint8
    assert (face.crop == (200, 100, 50)).all()
    assert face.box == (90.0, 40.0, 110.0, 60.0) and face.confidence == 0.97


def test_the_margin_widens_the_square_around_the_face_centre_and_the_crop_is_resized() -> None:
    image = black()
    image[40:60, 90:110] = 255
    detector = FakeDetector([[((90.0, 40.0, 110.0, 60.0), 0.9)]])
    [face] = detect_faces([frame(0, image)], detector, margin=1.0, crop_size=20)
    # a 40×40 square around (100, 50), shrunk to 20×20: the face is the middle half
    assert face.crop.shape == (20, 20, 3)
    assert (face.crop[6:14, 6:14] == 255).all()
    assert (face.crop[:4] == 0).all() and (face.crop[-4:] == 0).all()
    assert (face.crop[:, :4] == 0).all() and (face.crop[:, -4:] == 0).all()


def test_a_non_square_face_gets_a_square_on_its_longer_side() -> None:
    assert square_box((10.0, 10.0, 30.0, 50.0), 0.0) == (0, 10, 40, 50)
    assert square_box((10.0, 10.0, 30.0, 50.0), 0.5) == (-10, 0, 50, 60)


def test_a_face_at_the_frame_edge_is_padded_with_black_not_shifted() -> None:
    image = np.full((100, 200, 3), 255, np.uint8)
    detector = FakeDetector([[((0.0, 0.0, 20.0, 20.0), 0.8)]])
    [face] = detect_faces([frame(0, image)], detector, margin=1.0, crop_size=40)
    # the 40×40 square is (-10, -10)–(30, 30): its first 10 rows and columns lie outside
    assert (face.crop[:10] == 0).all() and (face.crop[:, :10] == 0).all()
    assert (face.crop[10:, 10:] == 255).all()


def test_faces_of_several_frames_come_from_one_detector_call_in_frame_order() -> None:
    frames = [frame(i, black()) for i in (0, 5, 10)]
    detector = FakeDetector(
        [
            [((10.0, 10.0, 30.0, 30.0), 0.99), ((100.0, 20.0, 140.0, 60.0), 0.91)],
            [],
            [((50.0, 50.0, 70.0, 70.0), 0.95)],
        ]
    )
    crops = detect_faces(frames, detector, margin=0.3, crop_size=16)
    assert detector.calls == [[(100, 200, 3)] * 3]
    assert [(c.frame_index, c.face_index) for c in crops] == [(0, 0), (0, 1), (10, 0)]
    assert [c.time_s for c in crops] == pytest.approx([0.0, 0.0, 0.4])
    assert [c.confidence for c in crops] == [0.99, 0.91, 0.95]
    assert [c.box for c in crops] == [
        (10.0, 10.0, 30.0, 30.0),
        (100.0, 20.0, 140.0, 60.0),
        (50.0, 50.0, 70.0, 70.0),
    ]
    assert all(c.crop.shape == (16, 16, 3) for c in crops)


def test_no_face_in_any_frame_gives_no_crops() -> None:
    assert detect_faces([frame(0, black()), frame(1, black())], FakeDetector(), crop_size=16) == []
