"""Object-storage key layout, in one place."""

from __future__ import annotations


def source_key(job_id: str, ext: str) -> str:
    return f"uploads/{job_id}/source.{ext}"


def presigned_upload_key(upload_id: str) -> str:
    """A presigned upload's object; the job made from it takes the upload's id, so this is
    also that job's source (its type is known from content, not from an extension)."""
    return f"uploads/{upload_id}/source"


def upload_prefix(job_or_upload_id: str) -> str:
    return f"uploads/{job_or_upload_id}/"


def segment_key(job_id: str, index: int) -> str:
    return f"segments/{job_id}/{index:05d}.mkv"


def artifact_prefix(job_id: str) -> str:
    return f"artifacts/{job_id}/"


def job_prefixes(job_id: str) -> tuple[str, ...]:
    """Every prefix holding a job's media (deleted on cancel and by retention)."""
    return (upload_prefix(job_id), f"segments/{job_id}/", artifact_prefix(job_id))


def face_artifact_keys(job_id: str, segment: int, frame: int, face: int) -> tuple[str, str]:
    """(thumbnail, heatmap overlay) keys of one scored face."""
    stem = f"{artifact_prefix(job_id)}faces/{segment:05d}-{frame:03d}-{face}"
    return f"{stem}.jpg", f"{stem}-heatmap.jpg"


def stream_prefix(stream_id: str) -> str:
    return f"streams/{stream_id}/"


def stream_segment_key(stream_id: str, index: int) -> str:
    """A live stream's closed segment, kept until it is scored."""
    return f"{stream_prefix(stream_id)}{index:06d}.mkv"
