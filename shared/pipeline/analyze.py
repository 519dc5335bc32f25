"""One segment (or image), end to end: decode → detect faces → score. Shared by the detector
worker and the in-process runner so both produce identical numbers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from shared.config import Settings
from shared.media.sniff import MediaType
from shared.model.classifier import Classifier
from shared.model.face_detector import FaceDetector
from shared.pipeline.aggregate import face_members
from shared.pipeline.faces import detect_faces
from shared.pipeline.frames import load_image, sample_frames
from shared.pipeline.score import score_faces, segment_probability
from shared.pipeline.segment import SEGMENT_DEMUXER, frames_for
from shared.types import CancelCheck, Frame, SegmentResult, SegmentSpec


def _no_check() -> None:
    return None


def analyze_frames(
    frames: list[Frame],
    spec: SegmentSpec,
    settings: Settings,
    detector: FaceDetector,
    classifier: Classifier,
    timings: dict[str, float],
    cancel_check: CancelCheck = _no_check,
) -> SegmentResult:
    cancel_check()
    t = time.perf_counter()
    crops = detect_faces(frames, detector, specs=classifier.crop_specs)
    timings["detect_s"] = round(time.perf_counter() - t, 4)
    cancel_check()
    t = time.perf_counter()
    faces = score_faces(crops, classifier, cancel_check=cancel_check)
    timings["score_s"] = round(time.perf_counter() - t, 4)
    return SegmentResult(
        index=spec.index,
        start_s=spec.start_s,
        end_s=spec.end_s,
        frames_sampled=len(frames),
        faces=faces,
        probability=segment_probability(
            [f.probability for f in faces],
            aggregation=classifier.aggregation,
            members=[list(col) for col in zip(*face_members(faces), strict=True)] if faces else None,
        ),
        timings=timings,
    )


def _timed(decode: Callable[[], list[Frame]]) -> tuple[list[Frame], dict[str, float]]:
    """Decoded frames and the timings dict of the segment, starting with `decode_s`."""
    t = time.perf_counter()
    frames = decode()
    return frames, {"decode_s": round(time.perf_counter() - t, 4)}


def analyze_segment(
    path: Path,
    spec: SegmentSpec,
    settings: Settings,
    detector: FaceDetector,
    classifier: Classifier,
    *,
    rotation: int = 0,
    cancel_check: CancelCheck = _no_check,
) -> SegmentResult:
    """Sample, detect and score one segment file whose time range is `spec`. `cancel_check`
    runs between stages and batches so a cancelled job stops within one batch."""
    k = frames_for(spec, settings.segment_seconds, settings.frames_per_segment)
    frames, timings = _timed(
        lambda: sample_frames(
            path,
            k,
            demuxer=SEGMENT_DEMUXER,
            duration_s=spec.duration_s or None,
            offset_s=spec.start_s,
            rotation=rotation,
            threads=settings.decode_threads,
            max_pixels=settings.max_pixels,
        )
    )
    return analyze_frames(frames, spec, settings, detector, classifier, timings, cancel_check)


def analyze_image(
    path: Path,
    media_type: MediaType,
    settings: Settings,
    detector: FaceDetector,
    classifier: Classifier,
    *,
    cancel_check: CancelCheck = _no_check,
    rotation: int = 0,
) -> SegmentResult:
    """An image is a one-frame, one-segment job (`rotation`: its EXIF orientation)."""
    frames, timings = _timed(
        lambda: [load_image(path, media_type, rotation=rotation, max_pixels=settings.max_pixels)]
    )
    spec = SegmentSpec(index=0, start_s=0.0, end_s=0.0)
    return analyze_frames(frames, spec, settings, detector, classifier, timings, cancel_check)
