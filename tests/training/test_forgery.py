"""Fakes made at frame resolution (issue 9): the self-blend mask follows the landmarks with a
soft edge, a face swap puts the donor's face on the target's landmarks, and both leave the
frame outside the face alone."""

from __future__ import annotations

import numpy as np
import pytest

from shared.training.forgery import (
    BLEND_RATIOS,
    face_swap,
    hull_mask,
    landmark_mask,
    self_blend_frame,
    warp_face,
)
from shared.training.landmarks import FACE_OVAL, FaceMesh


@pytest.fixture(scope="module")
def faces() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Two real photos with their MediaPipe Face Mesh landmarks, located by the pipeline's MTCNN."""
    from shared.config import Settings
    from shared.media.samples import load_subject
    from shared.model.face_detector import build_face_detector

    base = Settings()
    det = build_face_detector(
        base.model_copy(update={"mtcnn": base.mtcnn.model_copy(update={"detect_scale": 1.0})}), "cpu"
    )
    mesh = FaceMesh()
    out = {}
    for name in ("astronaut", "grace_hopper"):
        img = load_subject(name)
        box = det.predict([img])[0][0].box
        pts = mesh.landmarks(img, box)
        assert pts is not None and pts.shape == (468, 2), f"Face Mesh found no face in {name}"
        x1, y1, x2, y2 = box
        inside = (pts[:, 0] > x1 - 0.2 * (x2 - x1)) & (pts[:, 0] < x2 + 0.2 * (x2 - x1))
        assert inside.mean() > 0.95, "landmarks land on the detected face"
        out[name] = (img, pts)
    mesh.close()
    return out


def test_landmark_mask_covers_the_face_with_a_soft_edge(
    faces: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    img, pts = faces["astronaut"]
    shape = img.shape[:2]
    hull = hull_mask(pts, shape).astype(bool)
    for seed in range(5):
        mask = landmark_mask(pts, shape, np.random.default_rng(seed))
        assert mask.max() == pytest.approx(1.0) and mask.min() >= 0
        centre = np.round(pts[[1, 4, 168]].mean(axis=0)).astype(int)  # nose tip, nose, between the eyes
        assert mask[centre[1], centre[0]] > 0.9, "the middle of the face is blended fully"
        face = int(np.ptp(pts[:, 0]))
        assert mask[~_dilate(hull, face // 2)].max() < 0.1, "nothing far outside the face hull"
        assert mask[~_dilate(hull, face)].max() < 0.01
        soft = ((mask > 0.05) & (mask < 0.95)).sum()
        assert soft > 0.05 * hull.sum(), "a soft edge, not a hard cut-out"


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    import cv2

    return cv2.dilate(mask.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)


def test_self_blend_changes_the_face_and_keeps_the_blend_ratio(
    faces: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    img, pts = faces["astronaut"]
    hull = hull_mask(pts, img.shape[:2]).astype(bool)
    seen_source_altered = False
    for seed in range(12):
        fake, mask = self_blend_frame(img, pts, np.random.default_rng(seed))
        assert fake.shape == img.shape and fake.dtype == np.uint8
        assert any(abs(mask.max() - r) < 1e-4 for r in BLEND_RATIOS)
        diff = np.abs(fake.astype(int) - img.astype(int)).sum(axis=2)
        assert diff[hull].mean() > 1.0, "the face changed"
        far = ~_dilate(hull, 120)
        if diff[far].max() == 0:  # the source was altered: the frame outside the face is untouched
            seen_source_altered = True
    assert seen_source_altered, "half of the blends alter the source only"


def test_warp_puts_donor_landmarks_on_the_target_landmarks(
    faces: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    """Marks painted at the donor's landmarks end up at the target's landmarks."""
    from shared.training.landmarks import WARP_POINTS

    (target, t_pts), (donor, d_pts) = faces["astronaut"], faces["grace_hopper"]
    idx = np.array(WARP_POINTS)
    painted = np.zeros_like(donor)
    interior = [i for i in (1, 4, 168, 13, 14, 33, 263, 61, 291) if i in WARP_POINTS]
    for i in interior:
        x, y = np.round(d_pts[i]).astype(int)
        painted[y - 3 : y + 4, x - 3 : x + 4] = 255
    warped = warp_face(painted, d_pts[idx], t_pts[idx], target.shape[:2])
    face = np.ptp(t_pts[:, 0])
    for i in interior:
        ys, xs = np.nonzero(warped[..., 0] > 128)
        nearest = np.min(np.hypot(xs - t_pts[i][0], ys - t_pts[i][1]))
        assert nearest < 0.03 * face, f"landmark {i} lands {nearest:.1f} px from the target's"


def test_face_swap_replaces_the_inner_face_only(faces: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    (target, t_pts), (donor, d_pts) = faces["astronaut"], faces["grace_hopper"]
    oval = hull_mask(t_pts[list(FACE_OVAL)], target.shape[:2]).astype(bool)
    for seamless in (False, True):
        fake, mask = face_swap(target, t_pts, donor, d_pts, np.random.default_rng(0), seamless=seamless)
        diff = np.abs(fake.astype(int) - target.astype(int)).sum(axis=2)
        assert diff[oval].mean() > 8, "the face is someone else's"
        assert diff[~_dilate(oval, 60)].max() == 0, "the rest of the frame is untouched"
        assert 0.5 < mask.max() <= 1.0
