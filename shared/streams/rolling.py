"""The rolling verdict of a live stream and its alert hysteresis: pure functions, shared by
the stream aggregator (database) and `deepfakestream watch` (in process).

The rolling probability is the mean of the segment probabilities of the last N scored
segments that had faces (segments without faces neither raise nor lower it). An alert fires
when it reaches the threshold while no alert episode is open; the episode closes only once it
falls below `threshold - hysteresis`, so a probability hovering at the threshold raises one
alert, not one per segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rolling:
    probability: float | None
    verdict: str  # fake | real | no_face
    window_segments: int
    threshold: float

    def to_public(self) -> dict[str, object]:
        return {
            "probability": None if self.probability is None else round(self.probability, 4),
            "verdict": self.verdict,
            "window_segments": self.window_segments,
            "threshold": self.threshold,
        }


def rolling_verdict(probabilities: Sequence[float | None], window: int, threshold: float) -> Rolling:
    """`probabilities`: segment probabilities in stream order (None = no face)."""
    scored = [p for p in probabilities if p is not None][-window:]
    if not scored:
        return Rolling(None, "no_face", 0, threshold)
    mean = sum(scored) / len(scored)
    return Rolling(mean, "fake" if mean >= threshold else "real", len(scored), threshold)


@dataclass(frozen=True)
class AlertStep:
    active: bool  # the episode is open after this segment
    fire: bool  # a new episode starts here: send one alert


def alert_step(active: bool, rolling: Rolling, hysteresis: float) -> AlertStep:
    p = rolling.probability
    if p is None:
        return AlertStep(active, False)
    if not active and p >= rolling.threshold:
        return AlertStep(True, True)
    if active and p < rolling.threshold - hysteresis:
        return AlertStep(False, False)
    return AlertStep(active, False)
