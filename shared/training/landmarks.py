"""Dense face landmarks for building training and evaluation fakes (MediaPipe Face Mesh).

MediaPipe 0.10.21's Face Mesh (468 points, its model files inside the wheel, no download) runs
on a region around a face box found by the pipeline's face detector. Landmarks are returned in
the whole image's pixel coordinates. Used to draw self-blend masks and to warp face swaps;
never at serving time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Face Mesh points on the outline of the face (forehead, temples, jaw, chin), in order
FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
#: a subset spread over eyes, brows, nose and mouth, for warping (with the oval)
INNER_POINTS = (
    33,
    133,
    159,
    145,
    263,
    362,
    386,
    374,
    70,
    105,
    107,
    300,
    334,
    336,
    1,
    4,
    5,
    195,
    168,
    98,
    327,
    61,
    291,
    0,
    17,
    13,
    14,
    40,
    270,
    91,
    321,
    50,
    280,
    205,
    425,
    118,
    347,
    151,
    9,
)
WARP_POINTS = FACE_OVAL + INNER_POINTS


class FaceMesh:
    """MediaPipe Face Mesh on one face at a time, located by a box from the face detector."""

    def __init__(self, min_confidence: float = 0.3) -> None:
        self.min_confidence = min_confidence
        self._mesh: Any = None

    def _load(self) -> Any:
        if self._mesh is None:
            import mediapipe as mp

            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True,
                max_num_faces=1,
                refine_landmarks=False,
                min_detection_confidence=self.min_confidence,
            )
        return self._mesh

    def landmarks(self, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
        """468×2 float32 (x, y) pixel coordinates of the face in `box`, or None if not found.

        The face is cut out with its own width of context on each side, and scaled so that
        the region is 256-640 px (Face Mesh works on a 192 px face after its own detector).
        """
        import cv2

        h, w = image.shape[:2]
        x1, y1, x2, y2 = box
        side = max(x2 - x1, y2 - y1) * 2.0
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        rx1, ry1 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
        rx2, ry2 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
        if rx2 - rx1 < 16 or ry2 - ry1 < 16:
            return None
        region = np.ascontiguousarray(image[ry1:ry2, rx1:rx2])
        scale = float(np.clip(384 / max(region.shape[:2]), 0.5, 4.0))
        if abs(scale - 1) > 1e-3:
            region = cv2.resize(
                region,
                (max(1, round(region.shape[1] * scale)), max(1, round(region.shape[0] * scale))),
                interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA,
            )
        result = self._load().process(region)
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        rh, rw = region.shape[:2]
        pts = np.array([(p.x * rw, p.y * rh) for p in lm[:468]], dtype=np.float32)
        pts = pts / scale + np.array([rx1, ry1], dtype=np.float32)
        # a landmark set that does not overlap the detector's box belongs to another face
        mx, my = pts[:, 0].mean(), pts[:, 1].mean()
        if not (x1 <= mx <= x2 and y1 <= my <= y2):
            return None
        return pts

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None
