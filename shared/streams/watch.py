"""`deepfakestream watch URL`: the same ingest, scoring and rolling verdict in this process,
with no servers: each closed segment is scored as it arrives and reported to `report`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.config import Settings
from shared.model.classifier import get_classifier
from shared.model.face_detector import get_face_detector
from shared.pipeline import analyze_segment, model_record
from shared.streams.ingest import ClosedSegment, IngestLimits, IngestOutcome, StreamFailed, ingest
from shared.streams.rolling import alert_step, rolling_verdict
from shared.streams.urls import ingest_target, redact, validate_stream_url
from shared.types import SegmentSpec

Report = Callable[[str, dict[str, Any]], None]


def watch(
    url: str,
    settings: Settings,
    report: Report,
    *,
    segment_seconds: float | None = None,
    max_duration_s: float = 3600.0,
    alert_threshold: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> IngestOutcome:
    """Watch `url` until it ends (or `should_stop`); `report(kind, data)` gets `segment`,
    `alert` and a final `status`. Raises `StreamFailed` when the stream could not be read."""
    url = validate_stream_url(url, settings.stream_allowed_networks)
    seconds = segment_seconds or settings.stream_segment_seconds
    scoring = settings.model_copy(update={"segment_seconds": seconds})
    classifier = get_classifier(settings)
    detector = get_face_detector(settings)
    threshold = (
        alert_threshold if alert_threshold is not None else float(model_record(classifier)["threshold"])
    )
    probabilities: list[float | None] = []
    active = False

    def on_segment(seg: ClosedSegment) -> None:
        nonlocal active
        spec = SegmentSpec(index=seg.index, start_s=seg.start_s, end_s=seg.end_s)
        result = analyze_segment(seg.path, spec, scoring, detector, classifier)
        seg.path.unlink(missing_ok=True)
        probabilities.append(result.probability)
        rolling = rolling_verdict(probabilities, settings.stream_rolling_window, threshold)
        report(
            "segment",
            {
                "index": seg.index,
                "start_s": seg.start_s,
                "end_s": seg.end_s,
                "probability": None if result.probability is None else round(result.probability, 4),
                "faces": result.face_count,
                "rolling": rolling.to_public(),
            },
        )
        step = alert_step(active, rolling, settings.stream_alert_hysteresis)
        active = step.active
        if step.fire and rolling.probability is not None:
            report(
                "alert",
                {
                    "index": seg.index,
                    "at_s": seg.end_s,
                    "probability": round(rolling.probability, 4),
                    "threshold": threshold,
                },
            )

    limits = IngestLimits(
        segment_seconds=seconds,
        max_duration_s=max_duration_s,
        silence_timeout_s=settings.stream_silence_timeout_s,
        backoff_s=settings.stream_reconnect_backoff_s,
    )
    with tempfile.TemporaryDirectory(prefix="dfs-watch-") as tmp:
        outcome = ingest(
            url,
            lambda: ingest_target(url, settings.stream_allowed_networks),
            limits,
            Path(tmp),
            on_segment,
            should_stop=should_stop,
        )
    if outcome.status == "failed":
        raise StreamFailed(outcome.error or f"{redact(url)} could not be read")
    report("status", {"status": outcome.status, "reason": outcome.reason, "segments": outcome.segments})
    return outcome
