"""Stage 5: score every face crop of a segment in one batched forward pass."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shared.model.classifier import Classifier
from shared.model.preprocessing import AGGREGATION_MEAN
from shared.pipeline.aggregate import faces_probability
from shared.types import CancelCheck, FaceCrop, ScoredFace


def score_faces(
    crops: list[FaceCrop], classifier: Classifier, cancel_check: CancelCheck | None = None
) -> list[ScoredFace]:
    """Probability that each face is manipulated (plus its GWAP heatmap), in the classifier's
    batches; `cancel_check` runs before each batch so a cancelled job stops between batches."""
    if not crops:
        return []
    step = len(crops) if cancel_check is None else max(1, int(getattr(classifier, "batch_size", len(crops))))
    specs = classifier.crop_specs
    prob_parts, heat_parts, member_parts = [], [], []
    for start in range(0, len(crops), step):
        if cancel_check is not None:
            cancel_check()
        batch = crops[start : start + step]
        p, h, m = classifier.predict_views(
            {spec: np.stack([c.views[spec] if c.views else c.crop for c in batch]) for spec in specs}
        )
        prob_parts.append(p)
        heat_parts.append(h)
        member_parts.append(m)
    probs, heatmaps = np.concatenate(prob_parts), np.concatenate(heat_parts)
    members = np.concatenate(member_parts, axis=1)
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
            member_probabilities=tuple(float(v) for v in m) if len(m) > 1 else None,
        )
        for c, p, h, m in zip(crops, probs, heatmaps, members.T, strict=True)
    ]


def segment_probability(
    face_probabilities: Sequence[float],
    *,
    aggregation: str = AGGREGATION_MEAN,
    members: Sequence[Sequence[float]] | None = None,
) -> float | None:
    """A segment's probability from its faces' probabilities: their mean; None when it has no
    face. The one place this rule lives: serving (`analyze_frames`) and evaluation
    (`shared/training/evaluate.py`) both call it. Another aggregation (the card's) is applied
    to the segment's faces per model (`members`: M × N; default: the one row given)."""
    if len(face_probabilities) == 0:
        return None
    if aggregation != AGGREGATION_MEAN:
        rows = members if members is not None else [list(face_probabilities)]
        return faces_probability([list(map(float, r)) for r in rows], aggregation)
    return float(np.mean(face_probabilities))
