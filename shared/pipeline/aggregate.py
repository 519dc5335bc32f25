"""Stage 6: segment probabilities → the media's probability and verdict."""

from __future__ import annotations

from collections.abc import Sequence

from shared.types import Verdict


def aggregate(
    segment_probabilities: Sequence[float | None], threshold: float, faces_scored: int | None = None
) -> Verdict:
    """Mean over the segments that had faces; `fake` at or above `threshold`; `no_face` when
    no segment had a face (then the probability is None, never a made-up number)."""
    with_faces = [p for p in segment_probabilities if p is not None]
    if not with_faces:
        return Verdict(verdict="no_face", probability=None, threshold=threshold, faces_scored=faces_scored or 0)
    probability = sum(with_faces) / len(with_faces)
    return Verdict(
        verdict="fake" if probability >= threshold else "real",
        probability=probability,
        threshold=threshold,
        faces_scored=faces_scored if faces_scored is not None else len(with_faces),
    )


def result_document(
    verdict: Verdict,
    segments: Sequence[dict[str, object]],
    model: dict[str, str],
    *,
    model_trained: bool | None = None,
    model_warning: str | None = None,
) -> dict[str, object]:
    """The public `result` object of a job (see API.md)."""
    doc: dict[str, object] = {
        "verdict": verdict.verdict,
        "probability": None if verdict.probability is None else round(verdict.probability, 6),
        "threshold": verdict.threshold,
        "model": model,
        "segments": list(segments),
        "faces_scored": verdict.faces_scored,
    }
    if model_trained is False:
        doc["warning"] = "the model checkpoint is untrained: this probability carries no information"
    elif model_warning:
        doc["warning"] = model_warning
    return doc
