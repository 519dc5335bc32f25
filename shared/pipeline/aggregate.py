"""Stage 6: segment probabilities → the media's probability, verdict and result document."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared.model.preprocessing import AGGREGATION_CONFIDENT, AGGREGATION_MEAN, AGGREGATIONS
from shared.types import ScoredFace, SegmentResult, Verdict

if TYPE_CHECKING:  # the aggregator has no use for torch
    from shared.model.classifier import Classifier


def confident_strategy(probabilities: Sequence[float], t: float = 0.8) -> float:
    """The DFDC winner's video score from one model's face probabilities, written from its
    published description: when the faces scored above `t` are more than 11 and more than
    len // 2.5 (Python's floor division of a float) of them, the mean of those; otherwise, when
    the faces below 0.2 are more than 90 % of them, the mean of those; otherwise the plain mean."""
    n = len(probabilities)
    fakes = [p for p in probabilities if p > t]
    if len(fakes) > n // 2.5 and len(fakes) > 11:
        return sum(fakes) / len(fakes)
    reals = [p for p in probabilities if p < 0.2]
    if len(reals) > 0.9 * n:
        return sum(reals) / len(reals)
    return sum(probabilities) / n


def faces_probability(
    members: Sequence[Sequence[float]], aggregation: str = AGGREGATION_MEAN
) -> float | None:
    """One probability for a set of faces, from each model's probabilities of them (M×N; a
    single checkpoint: M = 1): `mean` averages everything; `confident` applies
    `confident_strategy` per model, then averages over models, as the DFDC winner's ensemble
    did. None when there is no face."""
    if not members or len(members[0]) == 0:
        return None
    if aggregation == AGGREGATION_CONFIDENT:
        return sum(confident_strategy(list(m)) for m in members) / len(members)
    if aggregation != AGGREGATION_MEAN:
        raise ValueError(f"unknown aggregation {aggregation!r} (one of {', '.join(AGGREGATIONS)})")
    return sum(sum(m) / len(m) for m in members) / len(members)


def video_probability(
    segment_probabilities: Sequence[float | None],
    *,
    aggregation: str = AGGREGATION_MEAN,
    faces: Sequence[Sequence[float]] | None = None,
) -> float | None:
    """A video's probability: by default the mean over its segments that had faces; None when
    none had. An aggregation over faces (`confident`) needs every face's probabilities, per
    model (`faces`: N faces × M models), and ignores the segments.
    The one place this rule lives (serving, the runner and evaluation call it)."""
    if aggregation != AGGREGATION_MEAN:
        if faces is None:
            raise ValueError(f"aggregation {aggregation!r} needs the faces' probabilities")
        return (
            faces_probability([list(col) for col in zip(*faces, strict=True)], aggregation) if faces else None
        )
    with_faces = [p for p in segment_probabilities if p is not None]
    if not with_faces:
        return None
    return sum(with_faces) / len(with_faces)


def aggregate(
    segment_probabilities: Sequence[float | None],
    threshold: float,
    faces_scored: int | None = None,
    *,
    aggregation: str = AGGREGATION_MEAN,
    faces: Sequence[Sequence[float]] | None = None,
) -> Verdict:
    """`fake` at or above `threshold`; `no_face` when no segment had a face (then the
    probability is None, never a made-up number)."""
    probability = video_probability(segment_probabilities, aggregation=aggregation, faces=faces)
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
    aggregation: str = AGGREGATION_MEAN,
) -> dict[str, object]:
    """The public `result` object of a job (`ResultPublic` in shared/jobs/schemas.py)."""
    doc: dict[str, object] = {
        "verdict": verdict.verdict,
        "probability": None if verdict.probability is None else round(verdict.probability, 6),
        "threshold": verdict.threshold,
        "aggregation": aggregation,
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
        "aggregation": classifier.meta.aggregation,
    }


def face_members(faces: Iterable[ScoredFace]) -> list[tuple[float, ...]]:
    """Each face's per-model probabilities (one value for a single checkpoint), for
    aggregations over faces."""
    return [f.member_probabilities if f.member_probabilities else (f.probability,) for f in faces]


def media_result(
    segments: Sequence[SegmentResult],
    model: Mapping[str, Any],
    faces: Sequence[Sequence[float]] | None = None,
) -> dict[str, object]:
    """Scored segments + the `model_record` that scored them → the media's result document.
    The in-process runner and the aggregator worker both end here. An aggregation over faces
    takes `faces` (N × M probabilities; default: the faces the segments carry)."""
    identity = dict(model)
    threshold = float(identity.pop("threshold", 0.5))
    trained = identity.pop("trained", None)
    warning = identity.pop("warning", None)
    aggregation = str(identity.pop("aggregation", None) or AGGREGATION_MEAN)
    if aggregation != AGGREGATION_MEAN and faces is None:
        faces = face_members(f for s in segments for f in s.faces)
    verdict = aggregate(
        [s.probability for s in segments],
        threshold,
        faces_scored=sum(s.face_count for s in segments),
        aggregation=aggregation,
        faces=faces,
    )
    return result_document(
        verdict,
        [s.to_public() for s in segments],
        identity,
        model_trained=trained,
        model_warning=warning,
        aggregation=aggregation,
    )
