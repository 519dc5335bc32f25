"""Stage 5: score every face crop of a segment in one batched forward pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from shared.model.classifier import Classifier
from shared.types import FaceCrop, ScoredFace


def score_faces(
    crops: list[FaceCrop], classifier: Classifier, check: Callable[[], None] | None = None
) -> list[ScoredFace]:
    """Probability that each face is manipulated (plus its GWAP heatmap), in the classifier's
    batches; `check` runs before each batch so a cancelled job stops between batches."""
    if not crops:
        return []
    step = len(crops) if check is None else max(1, int(getattr(classifier, "batch_size", len(crops))))
    prob_parts, heat_parts = [], []
    for start in range(0, len(crops), step):
        if check is not None:
            check()
        p, h = classifier.predict(np.stack([c.crop for c in crops[start : start + step]]))
        prob_parts.append(p)
        heat_parts.append(h)
    probs, heatmaps = np.concatenate(prob_parts), np.concatenate(heat_parts)
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
