"""Job-level work: load state by id, call the pipeline stages, persist the outcome.

Each function is what one Celery task does, minus Celery. Every one is idempotent: it reads
the job's state first and does nothing (or only the missing part) when the work is done, so
a task delivered twice, or after a worker died mid-way, changes nothing.
"""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from shared.broker.queues import TaskName
from shared.config import Settings, get_settings
from shared.db import Job, JobStatus, Segment, SegmentStatus, SessionScope, repo, scope_for
from shared.errors import Cancelled, CorruptMedia, DFSError, problem_from_exception
from shared.jobs.submit import add_image_segment
from shared.media.sniff import BY_EXT, BY_MIME, MediaType
from shared.model.classifier import get_classifier
from shared.model.face_detector import get_face_detector
from shared.pipeline import (
    analyze_image,
    analyze_segment,
    media_result,
    model_record,
    probe,
    probe_media,
    split_media,
)
from shared.provenance import read_provenance
from shared.storage import get_store
from shared.storage.keys import face_artifact_keys, segment_key
from shared.types import SegmentResult, SegmentSpec

log = logging.getLogger(__name__)

# Written into segments.worker. Celery worker processes replace it with "node name:pid"
# (services/worker/app.py), so that several workers on one host are told apart.
WORKER_NAME = f"{socket.gethostname()}"


def media_type_of(content_type: str, source: str) -> MediaType:
    """The sniffed type recorded at upload. A key with an extension must agree with it; a
    presigned upload's key (`uploads/{id}/source`) has none."""
    mt = BY_MIME.get(content_type)
    name = source.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name else None
    if mt is None or (ext is not None and BY_EXT.get(ext) is not mt):
        raise CorruptMedia(f"stored media type {content_type} is not supported")
    return mt


class JobCancelCheck:
    """The `CancelCheck` of a job: called between stages and scoring batches, it raises
    `Cancelled` once the job was cancelled (or deleted), so a running worker stops within one
    batch. Each check also touches the job, which is the heartbeat the reconciler reads. At
    most one database read per `every_s`, unless forced."""

    def __init__(self, job_id: str, sessions: SessionScope, every_s: float = 1.0) -> None:
        self.job_id = job_id
        self.sessions = sessions
        self.every_s = every_s
        self._last = float("-inf")

    def __call__(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        with self.sessions() as s:
            if _cancelled(s, self.job_id):
                raise Cancelled(f"job {self.job_id} was cancelled")
            repo.touch(s, self.job_id)


@dataclass
class Next:
    """What the task shell must do after the work (tasks enqueue; work functions don't):
    queue `tasks`, and announce the jobs in `finished` (their terminal-event webhooks)."""

    tasks: list[tuple[TaskName, tuple[Any, ...]]] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)


# --- segmenter ----------------------------------------------------------------------------


def segment_job(job_id: str, settings: Settings | None = None, sessions: SessionScope | None = None) -> Next:
    """Probe and split the upload, store the segments, create their rows, then ask for one
    detect task per pending segment. A re-run after the split only re-asks for pending ones."""
    settings, sessions = _resolve(settings, sessions)
    with sessions() as s:
        job = _active_job(s, job_id)
        if job is None:
            return Next()
        if job.segments_total is not None:
            pending = [
                seg.index for seg in repo.segments_of(s, job_id) if seg.status == SegmentStatus.pending.value
            ]
            return Next(
                [(TaskName.detect, (job_id, i)) for i in pending] or [(TaskName.aggregate, (job_id,))]
            )
        repo.mark_processing(s, job_id)
        media_type = media_type_of(job.content_type, job.source_key)
        key = job.source_key
        if media_type.kind == "image":
            add_image_segment(s, job_id, key)
            return Next([(TaskName.detect, (job_id, 0))])

    store = get_store(settings)
    check = JobCancelCheck(job_id, sessions)
    with tempfile.TemporaryDirectory(prefix=f"dfs-seg-{job_id}-") as tmp:
        local = store.get_file(key, Path(tmp) / f"source.{media_type.ext}")
        check(force=True)
        # Stored at once, so that a job that fails later (corrupt video) still shows it.
        provenance = read_provenance(local, media_type, settings)
        with sessions() as s:
            repo.set_media_info(s, job_id, provenance=provenance)
        info = probe_media(local, media_type, settings)
        specs = split_media(local, media_type, info, Path(tmp) / "segments", settings)
        check(force=True)
        for spec in specs:
            store.put_file(segment_key(job_id, spec.index), spec.path, "video/x-matroska")
    # A cancel that landed while the segments were being written: the shell deletes them again.
    check(force=True)
    with sessions() as s:
        repo.set_media_info(
            s,
            job_id,
            duration_s=info.duration_s,
            width=info.display_width,
            height=info.display_height,
            fps=info.fps,
            rotation=info.rotation,
        )
        repo.insert_segments(
            s,
            job_id,
            [
                {
                    "index": sp.index,
                    "start_s": sp.start_s,
                    "end_s": sp.end_s,
                    "object_key": segment_key(job_id, sp.index),
                }
                for sp in specs
            ],
        )
    return Next([(TaskName.detect, (job_id, sp.index)) for sp in specs])


# --- detector -----------------------------------------------------------------------------


def detect_segment(
    job_id: str, index: int, settings: Settings | None = None, sessions: SessionScope | None = None
) -> Next:
    """Decode, detect and score one segment, store its result; when it was the last one,
    ask for the aggregate task."""
    settings, sessions = _resolve(settings, sessions)
    with sessions() as s:
        job = _active_job(s, job_id)
        if job is None:
            return Next()
        seg = repo.get_segment(s, job_id, index)
        if seg is None:
            raise CorruptMedia(f"segment {index} of job {job_id} does not exist")
        if seg.status == SegmentStatus.done.value:
            return _after_segment(s, job_id)
        repo.mark_processing(s, job_id)
        repo.bump_segment_attempts(s, job_id, index)
        media_type = media_type_of(job.content_type, job.source_key)
        spec = SegmentSpec(index=seg.index, start_s=seg.start_s, end_s=seg.end_s)
        object_key, rotation = seg.object_key, job.rotation or 0

    classifier = get_classifier(settings)
    detector = get_face_detector(settings)
    store = get_store(settings)
    check = JobCancelCheck(job_id, sessions)
    with tempfile.TemporaryDirectory(prefix=f"dfs-det-{job_id}-{index}-") as tmp:
        if media_type.kind == "image":
            local = store.get_file(object_key, Path(tmp) / f"source.{media_type.ext}")
            # An image job has no segmenter run: its one segment reads the upload's provenance.
            provenance = read_provenance(local, media_type, settings)
            with sessions() as s:
                repo.set_media_info(s, job_id, provenance=provenance)
            info = probe(local, media_type, max_pixels=settings.max_pixels)
            with sessions() as s:
                repo.set_media_info(s, job_id, width=info.display_width, height=info.display_height)
            result = analyze_image(
                local, media_type, settings, detector, classifier, rotation=info.rotation, cancel_check=check
            )
        else:
            local = store.get_file(object_key, Path(tmp) / f"{index:05d}.mkv")
            check(force=True)
            result = analyze_segment(
                local, spec, settings, detector, classifier, rotation=rotation, cancel_check=check
            )

    artifact_keys = store_evidence(job_id, index, result, settings)
    with sessions() as s:
        if _cancelled(s, job_id):
            raise Cancelled(f"job {job_id} was cancelled")
        repo.record_segment_result(
            s,
            job_id,
            index,
            probability=result.probability,
            frames_sampled=result.frames_sampled,
            faces=result.faces,
            timings=result.timings,
            model=model_record(classifier),
            worker=WORKER_NAME,
            artifact_keys=artifact_keys,
        )
    with sessions() as s:
        return _after_segment(s, job_id)


def store_evidence(
    job_id: str, index: int, result: SegmentResult, settings: Settings
) -> dict[tuple[int, int], tuple[str | None, str | None]]:
    """Thumbnails and heatmap overlays of the segment's most suspicious faces, in object
    storage under artifacts/{job}/faces/. Returns their keys by (frame, face)."""
    from shared.model.explain import heatmap_overlay_jpeg, thumbnail_jpeg  # PIL/matplotlib: only when used

    store = get_store(settings)
    keys: dict[tuple[int, int], tuple[str | None, str | None]] = {}
    top = sorted(result.faces, key=lambda f: f.probability, reverse=True)[: settings.evidence_faces]
    for face in top:
        if face.crop is None:
            continue
        thumb, heat = face_artifact_keys(job_id, index, face.frame_index, face.face_index)
        store.put_bytes(thumb, thumbnail_jpeg(face.crop), "image/jpeg")
        heat_key: str | None = None
        if face.heatmap is not None:
            store.put_bytes(heat, heatmap_overlay_jpeg(face.crop, face.heatmap), "image/jpeg")
            heat_key = heat
        keys[(face.frame_index, face.face_index)] = (thumb, heat_key)
    return keys


def _resolve(settings: Settings | None, sessions: SessionScope | None) -> tuple[Settings, SessionScope]:
    """The caller's settings and database, or the process's."""
    settings = settings or get_settings()
    return settings, sessions or scope_for(settings)


def _active_job(session: Session, job_id: str) -> Job | None:
    """The job, unless it is gone, has ended or is being cancelled (then a task does nothing)."""
    job = repo.find_job(session, job_id)
    if job is None or JobStatus(job.status).is_terminal or job.cancel_requested:
        return None
    return job


def _cancelled(session: Session, job_id: str) -> bool:
    job = repo.find_job(session, job_id)
    return job is None or job.cancel_requested or job.status == JobStatus.cancelled.value


def _after_segment(session: Session, job_id: str) -> Next:
    segs = repo.segments_of(session, job_id)
    if segs and all(seg.status == SegmentStatus.done.value for seg in segs):
        return Next([(TaskName.aggregate, (job_id,))])
    return Next()


# --- aggregator ---------------------------------------------------------------------------


def aggregate_job(
    job_id: str, settings: Settings | None = None, sessions: SessionScope | None = None
) -> Next:
    """Segment probabilities → the job's verdict. `finished` names the job if this call
    completed it (its webhook is then announced); a repeated call changes nothing."""
    settings = settings or get_settings()
    with (sessions or scope_for(settings))() as s:
        job = _active_job(s, job_id)
        if job is None:
            return Next()
        segs = repo.segments_of(s, job_id)
        if not segs or any(seg.status != SegmentStatus.done.value for seg in segs):
            return Next()
        results = [
            SegmentResult(
                index=seg.index,
                start_s=seg.start_s,
                end_s=seg.end_s,
                frames_sampled=seg.frames_sampled or 0,
                probability=seg.probability,
                faces_scored=seg.faces or 0,
            )
            for seg in segs
        ]
        model = segs[0].model or {}
        faces = None
        if model.get("aggregation", "mean") != "mean":  # an aggregation over the faces themselves
            faces = repo.face_probabilities(s, job_id)
        doc = media_result(results, model, faces)
        if len({(seg.model or {}).get("sha256") for seg in segs}) > 1:
            doc["warning"] = "segments were scored by different model checkpoints (a deploy happened mid-job)"
        completed = repo.complete_job(s, job_id, doc, segments_done=len(segs))
    return Next(finished=[job_id] if completed else [])


# --- failures and reconciliation ----------------------------------------------------------


def fail(
    job_id: str,
    exc: BaseException,
    segment_index: int | None = None,
    settings: Settings | None = None,
    sessions: SessionScope | None = None,
) -> Next:
    """End the job as `failed` with a readable problem; `finished` names it unless it had
    already ended."""
    problem = problem_from_exception(exc)
    if segment_index is not None:
        problem["segment"] = segment_index
    with (sessions or scope_for(settings or get_settings()))() as s:
        if segment_index is not None:
            s.execute(
                update(Segment)
                .where(Segment.job_id == job_id, Segment.index == segment_index)
                .values(status=SegmentStatus.failed.value, error=problem)
            )
        changed = repo.fail_job(s, job_id, problem)
    if changed:
        log.warning("job failed", extra={"job_id": job_id, "segment": segment_index, "problem": problem})
    return Next(finished=[job_id] if changed else [])


def reconcile(
    settings: Settings | None = None,
    *,
    stale_after: timedelta | None = None,
    sessions: SessionScope | None = None,
) -> Next:
    """Find active jobs whose queue messages vanished (broker restart, lost message) and say
    what to re-queue. Jobs stuck far beyond any reasonable run time are failed instead."""
    settings = settings or get_settings()
    stale_after = stale_after or timedelta(
        seconds=settings.reconcile_stale_after_s or max(60, settings.poll_after_s * 30)
    )
    hard_limit = timedelta(seconds=settings.detect_visibility_timeout_s * 3)
    todo = Next()
    with (sessions or scope_for(settings))() as s:
        for job in repo.stale_jobs(s, stale_after):
            age = repo.utcnow() - job.created_at
            if age > hard_limit:
                if repo.fail_job(
                    s,
                    job.id,
                    DFSError(
                        f"the job made no progress for {int(age.total_seconds())} s and was stopped"
                    ).to_problem(),
                ):
                    todo.finished.append(job.id)
                continue
            repo.touch(s, job.id)
            if job.segments_total is None:
                todo.tasks.append((TaskName.segment, (job.id,)))
                continue
            segs = repo.segments_of(s, job.id)
            pending = [seg.index for seg in segs if seg.status == SegmentStatus.pending.value]
            if pending:
                todo.tasks.extend((TaskName.detect, (job.id, i)) for i in pending)
            else:
                todo.tasks.append((TaskName.aggregate, (job.id,)))
    return todo
