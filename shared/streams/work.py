"""What the stream tasks do, minus Celery: the ingest (one long task per stream), the scoring
of one closed segment (rolling verdict, events, alerts), failures and the reconciler."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update

from shared.broker import enqueue
from shared.broker.queues import TaskName
from shared.config import Settings, get_settings
from shared.db import SessionScope, Stream, StreamSegment, StreamStatus, scope_for
from shared.db.models import SegmentStatus, utcnow
from shared.db.repo import dialect_insert
from shared.errors import BrokerUnavailable, problem_from_exception
from shared.model.classifier import get_classifier
from shared.model.face_detector import get_face_detector
from shared.pipeline import analyze_segment, model_record
from shared.storage import get_store
from shared.storage.keys import stream_segment_key
from shared.streams.ingest import ClosedSegment, IngestLimits, StreamFailed, ingest
from shared.streams.rolling import alert_step, rolling_verdict
from shared.streams.service import (
    append_event,
    finish_if_done,
    lock_stream,
    queue_deliveries,
    stream_document,
)
from shared.streams.urls import ingest_target
from shared.types import SegmentSpec
from shared.webhooks.delivery import create_stream_delivery

log = logging.getLogger(__name__)

#: Set when this worker process shuts down (SIGTERM): its ingests close their open segment and
#: hand their streams back to the queue, where another ingest worker resumes them.
SHUTTING_DOWN = threading.Event()


def _resolve(settings: Settings | None, sessions: SessionScope | None) -> tuple[Settings, SessionScope]:
    settings = settings or get_settings()
    return settings, sessions or scope_for(settings)


def _throttled(every_s: float, fn: Callable[[], Any]) -> Callable[[], Any]:
    last = [float("-inf")]
    value: list[Any] = [None]

    def call() -> Any:
        now = time.monotonic()
        if now - last[0] >= every_s:
            last[0] = now
            value[0] = fn()
        return value[0]

    return call


# --- ingest ---------------------------------------------------------------------------------


def claim_ingest(stream_id: str, settings: Settings, sessions: SessionScope) -> Stream | None:
    """Take the stream's ingest unless it has finished or another ingest beats for it."""
    with sessions() as s:
        stream = lock_stream(s, stream_id)
        if stream is None or stream.ingest_outcome is not None or StreamStatus(stream.status).is_terminal:
            return None
        fresh = utcnow() - timedelta(seconds=settings.stream_stale_after_s)
        if stream.heartbeat_at is not None and stream.heartbeat_at > fresh:
            return None  # a duplicate message: the live ingest keeps it
        stream.heartbeat_at = utcnow()
        s.flush()
        s.expunge(stream)
        return stream


def ingest_stream(
    stream_id: str, settings: Settings | None = None, sessions: SessionScope | None = None
) -> str | None:
    """Read the stream until it ends, fails, is stopped or reaches its duration; each closed
    segment is stored and queued for scoring. Returns the outcome (None: nothing to do)."""
    settings, sessions = _resolve(settings, sessions)
    stream = claim_ingest(stream_id, settings, sessions)
    if stream is None:
        return None
    store = get_store(settings)
    url = stream.url

    def beat() -> None:
        with sessions() as s:
            s.execute(update(Stream).where(Stream.id == stream_id).values(heartbeat_at=utcnow()))

    def stop_requested() -> bool:
        with sessions() as s:
            row = s.get(Stream, stream_id)
            return row is None or row.stop_requested

    stop_check = _throttled(1.0, stop_requested)

    def on_segment(seg: ClosedSegment) -> None:
        key = stream_segment_key(stream_id, seg.index)
        store.put_file(key, seg.path, "video/x-matroska")
        seg.path.unlink(missing_ok=True)
        with sessions() as s:
            row = lock_stream(s, stream_id)
            if row is None:
                return
            s.execute(
                dialect_insert(s)(StreamSegment)
                .values(
                    stream_id=stream_id,
                    index=seg.index,
                    start_s=seg.start_s,
                    end_s=seg.end_s,
                    object_key=key,
                    status=SegmentStatus.pending.value,
                    closed_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["stream_id", "index"])
            )
            row.next_index, row.ingested_s, row.heartbeat_at = seg.index + 1, seg.end_s, utcnow()
            if row.status == StreamStatus.connecting.value:
                row.status, row.started_at = StreamStatus.live.value, utcnow()
                append_event(s, row, "status", {"status": row.status})
        try:
            enqueue(TaskName.stream_detect, stream_id, seg.index)
        except BrokerUnavailable as exc:  # the reconciler queues pending segments
            log.warning("segment not queued: %s", exc, extra={"stream_id": stream_id})

    limits = IngestLimits(
        segment_seconds=stream.segment_seconds,
        max_duration_s=stream.max_duration_s,
        silence_timeout_s=settings.stream_silence_timeout_s,
        backoff_s=settings.stream_reconnect_backoff_s,
    )
    with tempfile.TemporaryDirectory(prefix=f"dfs-ingest-{stream_id}-") as tmp:
        outcome = ingest(
            url,
            lambda: ingest_target(url, settings.stream_allowed_networks),
            limits,
            Path(tmp),
            on_segment,
            should_stop=lambda: SHUTTING_DOWN.is_set() or bool(stop_check()),
            heartbeat=_throttled(settings.stream_heartbeat_s, beat),
            start_index=stream.next_index,
            start_s=stream.ingested_s,
        )
    if outcome.status == "stopped" and SHUTTING_DOWN.is_set() and not stop_requested():
        hand_back(stream_id, sessions)
        return "handed back"
    log.info("ingest finished: %s (%s)", outcome.status, outcome.reason, extra={"stream_id": stream_id})
    error = StreamFailed(outcome.error).to_problem() if outcome.error else None
    finish_ingest(stream_id, outcome.status, error, settings, sessions)
    return outcome.status


def hand_back(stream_id: str, sessions: SessionScope) -> None:
    """This worker is shutting down: clear the heartbeat and queue the ingest again, so that
    another worker resumes the stream at its next segment (the reconciler does it if the
    broker is unreachable now)."""
    with sessions() as s:
        s.execute(update(Stream).where(Stream.id == stream_id).values(heartbeat_at=None))
    log.info("worker shutting down: stream handed back", extra={"stream_id": stream_id})
    try:
        enqueue(TaskName.stream_ingest, stream_id)
    except BrokerUnavailable as exc:
        log.warning("ingest not re-queued (the reconciler will): %s", exc, extra={"stream_id": stream_id})


def finish_ingest(
    stream_id: str, outcome: str, error: dict[str, Any] | None, settings: Settings, sessions: SessionScope
) -> None:
    with sessions() as s:
        stream = lock_stream(s, stream_id)
        if stream is None or stream.ingest_outcome is not None:
            return
        stream.ingest_outcome = StreamStatus.stopped.value if stream.stop_requested else outcome
        stream.error = error
        deliveries = finish_if_done(s, stream, settings)
    queue_deliveries(deliveries)


# --- scoring one segment ----------------------------------------------------------------------


def detect_stream_segment(
    stream_id: str, index: int, settings: Settings | None = None, sessions: SessionScope | None = None
) -> None:
    """Score one closed segment with the file pipeline's `analyze_segment`, then update the
    rolling verdict, emit the events and fire an alert when an episode starts."""
    settings, sessions = _resolve(settings, sessions)
    with sessions() as s:
        stream = s.get(Stream, stream_id)
        seg = s.execute(
            select(StreamSegment).where(StreamSegment.stream_id == stream_id, StreamSegment.index == index)
        ).scalar_one_or_none()
        if (
            stream is None
            or seg is None
            or seg.status != SegmentStatus.pending.value
            or seg.object_key is None
        ):
            return
        spec = SegmentSpec(index=index, start_s=seg.start_s, end_s=seg.end_s)
        key, segment_seconds = seg.object_key, stream.segment_seconds
    classifier = get_classifier(settings)
    detector = get_face_detector(settings)
    store = get_store(settings)
    scoring = settings.model_copy(update={"segment_seconds": segment_seconds})
    with tempfile.TemporaryDirectory(prefix=f"dfs-sdet-{stream_id}-{index}-") as tmp:
        local = store.get_file(key, Path(tmp) / f"{index:06d}.mkv")
        result = analyze_segment(local, spec, scoring, detector, classifier)
    model = model_record(classifier)
    with sessions() as s:
        stream = lock_stream(s, stream_id)
        if stream is None:
            return
        done = s.execute(
            update(StreamSegment)
            .where(
                StreamSegment.stream_id == stream_id,
                StreamSegment.index == index,
                StreamSegment.status == SegmentStatus.pending.value,
            )
            .values(
                status=SegmentStatus.done.value,
                probability=result.probability,
                faces=result.face_count,
                frames_sampled=result.frames_sampled,
                timings=result.timings,
                scored_at=utcnow(),
                object_key=None,
            )
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            return
        deliveries = record_score(s, stream, index, settings, model)
    store.delete(key)  # scored: the segment's media is not kept (bounded storage per stream)
    queue_deliveries(deliveries)


def record_score(s: Any, stream: Stream, index: int, settings: Settings, model: dict[str, Any]) -> list[str]:
    """After segment `index` was scored: rolling verdict, `segment` event, alert hysteresis."""
    stream.segments_done = (stream.segments_done or 0) + 1
    stream.model = {k: model[k] for k in ("name", "version", "sha256", "threshold") if k in model}
    threshold = (
        stream.alert_threshold if stream.alert_threshold is not None else float(model.get("threshold", 0.5))
    )
    probs = list(
        s.execute(
            select(StreamSegment.probability)
            .where(StreamSegment.stream_id == stream.id, StreamSegment.status == SegmentStatus.done.value)
            .order_by(StreamSegment.index)
        ).scalars()
    )
    rolling = rolling_verdict(probs, settings.stream_rolling_window, threshold)
    stream.rolling = rolling.to_public()
    seg = s.execute(
        select(StreamSegment).where(StreamSegment.stream_id == stream.id, StreamSegment.index == index)
    ).scalar_one()
    append_event(
        s,
        stream,
        "segment",
        {
            "index": index,
            "start_s": seg.start_s,
            "end_s": seg.end_s,
            "probability": None if seg.probability is None else round(seg.probability, 4),
            "faces": seg.faces,
            "rolling": stream.rolling,
        },
    )
    step = alert_step(stream.alert_active, rolling, settings.stream_alert_hysteresis)
    stream.alert_active = step.active
    deliveries: list[str] = []
    if step.fire:
        assert rolling.probability is not None
        alert = {
            "index": index,
            "at_s": seg.end_s,
            "probability": round(rolling.probability, 4),
            "threshold": threshold,
            "created_at": utcnow().isoformat().replace("+00:00", "Z"),
        }
        stream.alerts = [*(stream.alerts or []), alert]
        append_event(s, stream, "alert", alert)
        delivery = create_stream_delivery(
            s, stream, "stream.alert", stream_document(stream) | {"alert": alert}, settings
        )
        deliveries += [delivery] if delivery else []
    s.flush()
    return deliveries + finish_if_done(s, stream, settings)


def fail_segment(
    stream_id: str,
    index: int,
    exc: BaseException,
    settings: Settings | None = None,
    sessions: SessionScope | None = None,
) -> None:
    """A segment that cannot be scored is marked failed (shown, not counted in the verdict)."""
    settings, sessions = _resolve(settings, sessions)
    with sessions() as s:
        stream = lock_stream(s, stream_id)
        if stream is None:
            return
        s.execute(
            update(StreamSegment)
            .where(
                StreamSegment.stream_id == stream_id,
                StreamSegment.index == index,
                StreamSegment.status == SegmentStatus.pending.value,
            )
            .values(status=SegmentStatus.failed.value, error=problem_from_exception(exc))
        )
        deliveries = finish_if_done(s, stream, settings)
    queue_deliveries(deliveries)


# --- reconciler -------------------------------------------------------------------------------


def reconcile_streams(
    settings: Settings | None = None, sessions: SessionScope | None = None
) -> list[tuple[TaskName, tuple[Any, ...]]]:
    """Streams whose ingest stopped beating (worker killed, message lost) get a new ingest task,
    which resumes at the next segment; pending segments not scored for a while are re-queued."""
    settings, sessions = _resolve(settings, sessions)
    now = utcnow()
    stale = now - timedelta(seconds=settings.stream_stale_after_s)
    todo: list[tuple[TaskName, tuple[Any, ...]]] = []
    with sessions() as s:
        dead = s.execute(
            select(Stream.id).where(
                Stream.status.in_((StreamStatus.connecting.value, StreamStatus.live.value)),
                Stream.ingest_outcome.is_(None),
                or_(
                    Stream.heartbeat_at < stale,
                    Stream.heartbeat_at.is_(None) & (Stream.created_at < stale),
                ),
            )
        ).scalars()
        todo += [(TaskName.stream_ingest, (sid,)) for sid in dead]
        lost = s.execute(
            select(StreamSegment.stream_id, StreamSegment.index).where(
                StreamSegment.status == SegmentStatus.pending.value, StreamSegment.closed_at < stale
            )
        ).all()
        todo += [(TaskName.stream_detect, (sid, idx)) for sid, idx in lost]
    return todo
