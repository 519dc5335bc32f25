"""Stream records: create, read, list, stop; the public document; events and the finish.

Torch-free (the API imports it). The work the tasks do is in `shared/streams/work.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.access.auth import Principal
from shared.broker import enqueue
from shared.broker.queues import TaskName
from shared.config import Settings
from shared.db import Stream, StreamEvent, StreamSegment, StreamStatus, scope_for
from shared.db.models import SegmentStatus, utcnow
from shared.errors import BrokerUnavailable, Conflict, InvalidRequest, NotFound, RateLimited
from shared.ids import new_ulid
from shared.jobs import idempotency
from shared.jobs.submit import check_metadata
from shared.storage import get_store
from shared.storage.keys import stream_prefix
from shared.streams.schemas import StreamCreate
from shared.streams.urls import redact, validate_stream_url
from shared.webhooks.delivery import create_stream_delivery
from shared.webhooks.netguard import validate_callback_url

log = logging.getLogger(__name__)

DEFAULT_MAX_DURATION_S = 3600.0
ACTIVE = (StreamStatus.connecting.value, StreamStatus.live.value)
WEBHOOK_EVENTS = {StreamStatus.ended.value: "stream.ended", StreamStatus.failed.value: "stream.failed"}


# --- the public document --------------------------------------------------------------------


def stream_public(stream: Stream) -> dict[str, Any]:
    return {
        "id": stream.id,
        "status": stream.status,
        "url": stream.url_redacted,
        "created_at": stream.created_at,
        "started_at": stream.started_at,
        "ended_at": stream.ended_at,
        "segment_seconds": stream.segment_seconds,
        "max_duration_s": stream.max_duration_s,
        "alert_threshold": stream.alert_threshold,
        "segments_done": stream.segments_done,
        "rolling": stream.rolling,
        "alerts": list(stream.alerts or []),
        "error": stream.error,
        "model": stream.model,
        "metadata": stream.meta or {},
        "stop_requested": stream.stop_requested,
    }


def stream_document(stream: Stream) -> dict[str, Any]:
    """The public document as JSON-ready data (webhook payloads, SSE)."""
    doc = stream_public(stream)
    for key in ("created_at", "started_at", "ended_at"):
        if doc[key] is not None:
            doc[key] = doc[key].isoformat().replace("+00:00", "Z")
    return doc


def segment_public(seg: StreamSegment) -> dict[str, Any]:
    return {
        "index": seg.index,
        "start_s": seg.start_s,
        "end_s": seg.end_s,
        "status": seg.status,
        "probability": None if seg.probability is None else round(seg.probability, 4),
        "faces": seg.faces,
        "frames_sampled": seg.frames_sampled,
        "timings": seg.timings,
        "scored_at": seg.scored_at,
    }


# --- create ---------------------------------------------------------------------------------


def vet_request(req: StreamCreate, settings: Settings) -> tuple[str, str | None, dict[str, Any], str]:
    """The vetted URL, callback and metadata of a request, and its idempotency fingerprint."""
    url = validate_stream_url(req.url, settings.stream_allowed_networks)
    callback_url = validate_callback_url(req.callback_url, settings.webhook_allowed_networks)
    metadata = check_metadata(req.metadata, settings)
    digest = idempotency.fingerprint("stream", **(req.model_dump() | {"callback_url": callback_url}))
    return url, callback_url, metadata, digest


def create_stream(
    req: StreamCreate, principal: Principal, settings: Settings, idempotency_key: str | None = None
) -> Stream:
    """Vet the request, store the stream (`connecting`) and queue its ingest. A broker outage
    loses nothing: the reconciler queues a stream that never beat. With an `Idempotency-Key`
    (claimed by the caller), the key is bound to the stream in the same transaction."""
    url, callback_url, metadata, digest = vet_request(req, settings)
    max_duration = min(req.max_duration_s or DEFAULT_MAX_DURATION_S, settings.stream_max_duration_s)
    stream = Stream(
        id=new_ulid(),
        tenant_id=principal.tenant_id,
        status=StreamStatus.connecting.value,
        url=url,
        url_redacted=redact(url),
        callback_url=callback_url,
        meta=metadata,
        segment_seconds=req.segment_seconds or settings.stream_segment_seconds,
        max_duration_s=max_duration,
        alert_threshold=req.alert_threshold,
        alerts=[],
        stop_requested=False,
        segments_done=0,
        ingested_s=0.0,
        next_index=0,
        alert_active=False,
        event_seq=0,
    )
    with scope_for(settings)() as s:
        _check_cap(s, principal.tenant_id, settings)
        s.add(stream)
        s.flush()
        append_event(s, stream, "status", {"status": stream.status})
        if idempotency_key is not None:
            idempotency.complete_stream_key(s, principal.tenant_id, idempotency_key, digest, stream.id)
    queue_ingest(stream.id)
    return stream


def _check_cap(session: Session, tenant_id: str, settings: Settings) -> None:
    cap = settings.max_live_streams_per_tenant
    if cap <= 0:
        return
    active = session.execute(
        select(func.count())
        .select_from(Stream)
        .where(Stream.tenant_id == tenant_id, Stream.status.in_(ACTIVE))
    ).scalar_one()
    if active >= cap:
        raise RateLimited(
            f"this tenant already watches {active} live streams (limit {cap}); stop one first",
            retry_after=max(5, settings.poll_after_s * 5),
        )


def queue_ingest(stream_id: str) -> None:
    try:
        enqueue(TaskName.stream_ingest, stream_id)
    except BrokerUnavailable as exc:
        log.warning("ingest not queued (the reconciler will): %s", exc, extra={"stream_id": stream_id})


def create_idempotent(
    req: StreamCreate, principal: Principal, settings: Settings, key: str | None
) -> tuple[Stream, bool]:
    """POST /v1/streams with an optional `Idempotency-Key`: the same key and request within the
    key's lifetime return the original stream (`True`: replayed); the same key with another
    request is a 422; while the first is still being created, a 409."""
    if key is None:
        return create_stream(req, principal, settings), False
    claim = idempotency.claim_key(principal.tenant_id, key, settings)
    if claim.state == "in_flight":
        raise Conflict(f"a request with {idempotency.HEADER} {key!r} is still being processed; retry later")
    if claim.state == "done":
        digest = vet_request(req, settings)[3]
        if claim.stream_id is None or digest != claim.fingerprint:
            raise InvalidRequest(
                f"this {idempotency.HEADER} was already used with a different request payload",
                [{"field": idempotency.HEADER, "message": "reused with a different payload", "in": "header"}],
            )
        with scope_for(settings)() as s:
            stream = get_stream(s, claim.stream_id, principal.tenant_id)
            s.expunge(stream)
        return stream, True
    try:
        return create_stream(req, principal, settings, key), False
    except BaseException:
        idempotency.release_key(principal.tenant_id, key, settings)
        raise


# --- read -----------------------------------------------------------------------------------


def get_stream(session: Session, stream_id: str, tenant_id: str | None) -> Stream:
    stream = session.get(Stream, stream_id, populate_existing=True)
    if stream is None or (tenant_id is not None and stream.tenant_id != tenant_id):
        raise NotFound(f"stream {stream_id} not found")
    return stream


def list_streams(
    session: Session, tenant_id: str, *, status: str | None = None, limit: int = 20, cursor: str | None = None
) -> tuple[list[Stream], str | None]:
    stmt = select(Stream).where(Stream.tenant_id == tenant_id)
    if status:
        stmt = stmt.where(Stream.status == status)
    if cursor:
        stmt = stmt.where(Stream.id < cursor)
    rows = list(session.execute(stmt.order_by(Stream.id.desc()).limit(limit + 1)).scalars())
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def list_segments(
    session: Session, stream_id: str, *, limit: int = 50, cursor: int | None = None
) -> tuple[list[StreamSegment], int | None]:
    """Newest first; the cursor is the index of the last segment of the previous page."""
    stmt = select(StreamSegment).where(StreamSegment.stream_id == stream_id)
    if cursor is not None:
        stmt = stmt.where(StreamSegment.index < cursor)
    rows = list(session.execute(stmt.order_by(StreamSegment.index.desc()).limit(limit + 1)).scalars())
    return rows[:limit], rows[limit - 1].index if len(rows) > limit else None


# --- events ---------------------------------------------------------------------------------


def lock_stream(session: Session, stream_id: str) -> Stream | None:
    """The stream row, locked until the transaction ends (events are numbered under it)."""
    return session.execute(
        select(Stream)
        .where(Stream.id == stream_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def append_event(session: Session, stream: Stream, kind: str, data: dict[str, Any]) -> int:
    """Number and store one SSE event; call with the stream row locked (`lock_stream`)."""
    stream.event_seq = (stream.event_seq or 0) + 1
    session.add(StreamEvent(stream_id=stream.id, seq=stream.event_seq, type=kind, data=data))
    session.flush()
    return stream.event_seq


def events_after(session: Session, stream_id: str, after: int, limit: int = 500) -> list[StreamEvent]:
    return list(
        session.execute(
            select(StreamEvent)
            .where(StreamEvent.stream_id == stream_id, StreamEvent.seq > after)
            .order_by(StreamEvent.seq)
            .limit(limit)
        ).scalars()
    )


# --- stop and finish ------------------------------------------------------------------------


def request_stop(stream_id: str, tenant_id: str, settings: Settings) -> tuple[Stream, list[str]]:
    """DELETE: the ingest stops at its next check (closing the open segment, which is still
    scored) and the stream ends `stopped`. A stream whose ingest is not running stops now.
    Returns the stream and the webhook deliveries to queue."""
    sessions = scope_for(settings)
    with sessions() as s:
        get_stream(s, stream_id, tenant_id)
        stream = lock_stream(s, stream_id)
        assert stream is not None
        deliveries: list[str] = []
        if not StreamStatus(stream.status).is_terminal:
            stream.stop_requested = True
            stale = utcnow() - timedelta(seconds=settings.stream_stale_after_s)
            if stream.heartbeat_at is None or stream.heartbeat_at < stale:
                stream.ingest_outcome = stream.ingest_outcome or StreamStatus.stopped.value
                deliveries = finish_if_done(s, stream, settings)
        s.flush()
        s.expunge(stream)
    return stream, deliveries


def finish_if_done(session: Session, stream: Stream, settings: Settings) -> list[str]:
    """Once the ingest has finished and no segment awaits its score, the stream takes the
    ingest's outcome as its status: a `status` event, and `stream.ended`/`stream.failed`.
    Call with the stream row locked. Returns the deliveries to queue."""
    if stream.ingest_outcome is None or StreamStatus(stream.status).is_terminal:
        return []
    pending = session.execute(
        select(func.count())
        .select_from(StreamSegment)
        .where(StreamSegment.stream_id == stream.id, StreamSegment.status == SegmentStatus.pending.value)
    ).scalar_one()
    if pending:
        return []
    stream.status = stream.ingest_outcome
    stream.ended_at = utcnow()
    data: dict[str, Any] = {"status": stream.status}
    if stream.error:
        data["error"] = stream.error
    append_event(session, stream, "status", data)
    event_type = WEBHOOK_EVENTS.get(stream.status)
    if event_type is None:
        return []
    delivery = create_stream_delivery(session, stream, event_type, stream_document(stream), settings)
    return [delivery] if delivery else []


def queue_deliveries(ids: list[str]) -> None:
    for delivery_id in ids:
        try:
            enqueue(TaskName.deliver_webhook, delivery_id)
        except BrokerUnavailable as exc:  # the webhook sweep queues stored deliveries
            log.warning("webhook not queued (the sweep will retry): %s", exc)


def expire_stream_media(settings: Settings, *, now: datetime | None = None, batch: int = 200) -> int:
    """Retention: media left by streams that ended more than `media_retention_days` ago (a
    segment's media is normally deleted once scored; one whose scoring failed, or a stream
    stopped mid-upload, may leave some). Returns how many streams were swept."""
    store = get_store(settings)
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.media_retention_days)
    sessions = scope_for(settings)
    with sessions() as s:
        ids = list(
            s.execute(
                select(Stream.id)
                .where(
                    Stream.status.in_([st.value for st in StreamStatus if st.is_terminal]),
                    Stream.media_deleted_at.is_(None),
                    Stream.ended_at < cutoff,
                )
                .order_by(Stream.id)
                .limit(batch)
            ).scalars()
        )
    for stream_id in ids:
        store.delete_prefix(stream_prefix(stream_id))
        with sessions() as s:
            s.execute(update(Stream).where(Stream.id == stream_id).values(media_deleted_at=now))
    return len(ids)
