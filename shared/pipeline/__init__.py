"""Pipeline stages as plain typed functions: probe → split → sample_frames → detect_faces →
score_faces → aggregate. Celery tasks and the in-process runner are thin shells around them."""

from shared.pipeline.aggregate import aggregate, result_document
from shared.pipeline.analyze import analyze_image, analyze_segment
from shared.pipeline.faces import detect_faces
from shared.pipeline.frames import load_image, sample_frames
from shared.pipeline.probe import detect_type, parse_ffprobe, probe
from shared.pipeline.score import score_faces, segment_probability
from shared.pipeline.segment import split

__all__ = [
    "aggregate",
    "analyze_image",
    "analyze_segment",
    "detect_faces",
    "detect_type",
    "load_image",
    "parse_ffprobe",
    "probe",
    "result_document",
    "sample_frames",
    "score_faces",
    "segment_probability",
    "split",
]
