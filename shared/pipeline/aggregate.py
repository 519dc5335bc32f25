"""Stage 6: segment probabilities → the media's probability, verdict and result document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared.types import SegmentResult, Verdict

if TYPE_CHECKING:  # the aggregator has no use for torch
    from shared.model.classifier import Classifier


def video_probability(segment_probabilities: Sequence[float | None]) -> float | None:
    """A video's probability: the mean over its segments that had faces; None when none had.
    The one place this rule lives (serving, the runner and evaluation call it)."""
    with_faces = [p for p in segment_probabilities if p is not None]
    if not with_faces:
        return None
    return sum(with_faces) / len(with_faces)


def aggregate(
    segment_probabilities: Sequence[float | None], threshold: float, faces_scored: int | None = None
) -> Verdict:
    """`fake` at or above `threshold`; `no_face` when no segment had a face (then the
    probability is None, never a made-up number)."""
    probability = video_probability(segment_probabilities)
    if probability is None:
        return Verdict(
            verdict="no_face", probability=None, threshold=threshold, faces_scored=faces_scored or 0
        )
    return Verdict(
        verdict="fake" if probability >= threshold else "real",
        probability=probability,
        threshold=threshold,
        faces_scored=faces_scored
        if faces_scored is not None
        else sum(p is not None for p in segment_probabilities),
    )


def result_document(
    verdict: Verdict,
    segments: Sequence[dict[str, object]],
    model: dict[str, str],
    *,
    model_trained: bool | None = None,
    model_warning: str | None = None,
) -> dict[str, object]:
    """The public `result` object of a job (`ResultPublic` in shared/jobs/schemas.py)."""
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


def model_record(classifier: Classifier) -> dict[str, Any]:
    """What a scored segment records about its model: identity, threshold, trained, warning.
    Stored on every segment row, so a job's verdict uses the model that scored it."""
    return classifier.identity.to_public() | {
        "threshold": classifier.threshold,
        "trained": classifier.meta.trained,
        "warning": classifier.meta.warning,
    }


def media_result(segments: Sequence[SegmentResult], model: Mapping[str, Any]) -> dict[str, object]:
    """Scored segments + the `model_record` that scored them → the media's result document.
    The in-process runner and the aggregator worker both end here."""
    identity = dict(model)
    threshold = float(identity.pop("threshold", 0.5))
    trained = identity.pop("trained", None)
    warning = identity.pop("warning", None)
    verdict = aggregate(
        [s.probability for s in segments], threshold, faces_scored=sum(s.face_count for s in segments)
    )
    return result_document(
        verdict, [s.to_public() for s in segments], identity, model_trained=trained, model_warning=warning
    )
