"""Stage 5: score every face crop of a segment in one batched forward pass."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shared.model.classifier import Classifier
from shared.types import CancelCheck, FaceCrop, ScoredFace


def score_faces(
    crops: list[FaceCrop], classifier: Classifier, cancel_check: CancelCheck | None = None
) -> list[ScoredFace]:
    """Probability that each face is manipulated (plus its GWAP heatmap), in the classifier's
    batches; `cancel_check` runs before each batch so a cancelled job stops between batches."""
    if not crops:
        return []
    step = len(crops) if cancel_check is None else max(1, int(getattr(classifier, "batch_size", len(crops))))
    prob_parts, heat_parts = [], []
    for start in range(0, len(crops), step):
        if cancel_check is not None:
            cancel_check()
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


def segment_probability(face_probabilities: Sequence[float]) -> float | None:
    """A segment's probability from its faces' probabilities: their mean; None when it has no
    face. The one place this rule lives: serving (`analyze_frames`) and evaluation
    (`shared/training/evaluate.py`) both call it."""
    if len(face_probabilities) == 0:
        return None
    return float(np.mean(face_probabilities))
