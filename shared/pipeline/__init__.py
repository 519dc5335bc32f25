"""Pipeline stages as plain typed functions: probe → split → sample_frames → detect_faces →
score_faces → aggregate. Celery tasks and the in-process runner are thin shells around them."""

from pathlib import Path

from shared.config import Settings
from shared.media.sniff import MediaType
from shared.pipeline.aggregate import (
    aggregate,
    media_result,
    model_record,
    result_document,
    video_probability,
)
from shared.pipeline.analyze import analyze_image, analyze_segment
from shared.pipeline.faces import detect_faces
from shared.pipeline.frames import load_image, sample_frames
from shared.pipeline.probe import detect_type, parse_ffprobe, probe
from shared.pipeline.score import score_faces, segment_probability
from shared.pipeline.segment import split
from shared.types import MediaInfo, SegmentSpec


def probe_media(path: Path, media_type: MediaType, settings: Settings) -> MediaInfo:
    """`probe` with the configured limits (the runner and the segmenter call it alike)."""
    return probe(
        path,
        media_type,
        timeout_s=settings.ffmpeg_timeout_s,
        max_duration_s=settings.max_duration_s,
        max_pixels=settings.max_pixels,
    )


def split_media(
    path: Path, media_type: MediaType, info: MediaInfo, out_dir: Path, settings: Settings
) -> list[SegmentSpec]:
    """`split` with the configured segment length and mode."""
    return split(
        path,
        media_type,
        info,
        out_dir,
        segment_seconds=settings.segment_seconds,
        mode=settings.segment_mode,
        timeout_s=settings.ffmpeg_timeout_s,
    )


__all__ = [
    "probe_media",
    "split_media",
    "aggregate",
    "analyze_image",
    "analyze_segment",
    "detect_faces",
    "detect_type",
    "load_image",
    "media_result",
    "model_record",
    "parse_ffprobe",
    "probe",
    "result_document",
    "sample_frames",
    "score_faces",
    "segment_probability",
    "split",
    "video_probability",
]
