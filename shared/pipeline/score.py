"""Stage 5: score every face crop of a segment in one batched forward pass."""

from __future__ import annotations

import numpy as np

from shared.model.classifier import Classifier
from shared.types import FaceCrop, ScoredFace


def score_faces(crops: list[FaceCrop], classifier: Classifier) -> list[ScoredFace]:
    """Probability that each face is manipulated (plus its GWAP heatmap)."""
    if not crops:
        return []
    batch = np.stack([c.crop for c in crops])
    probs, heatmaps = classifier.predict(batch)
    return [
        ScoredFace(
            frame_index=c.frame_index,
            face_index=c.face_index,
            time_s=c.time_s,
            box=c.box,
            confidence=c.confidence,
            probability=float(p),
            heatmap=h,
            crop=c.crop,
        )
        for c, p, h in zip(crops, probs, heatmaps, strict=True)
    ]


def segment_probability(faces: list[ScoredFace]) -> float | None:
    """A segment's probability: the mean over its scored faces; None when it has none."""
    if not faces:
        return None
    return float(np.mean([f.probability for f in faces]))
