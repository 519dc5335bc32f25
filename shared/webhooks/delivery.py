"""Webhook delivery: one row per event, one attempt row per try, written before the request.

Every try is claimed with a guarded UPDATE (pending → sending), so a duplicated or late queue
message never sends twice, and a message lost with the broker is found again by `sweep`.
The outcome decides what follows: 2xx succeeded; 410 Gone disables the job's callback; a URL
refused by the SSRF guard fails at once; anything else is retried with exponential backoff
and jitter (or after the receiver's Retry-After) until `attempt_limit`.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shared.access.tenants import ensure_tenant, signing_secrets
from shared.config import Settings
from shared.db.engine import scope_for
from shared.db.models import (
    DeliveryStatus,
    Job,
    JobStatus,
    Stream,
    WebhookAttempt,
    WebhookDelivery,
    utcnow,
)
from shared.db.repo import dialect_insert
from shared.errors import Conflict, NotFound
from shared.ids import new_ulid
from shared.webhooks.netguard import CallbackRefused, CallbackUnresolvable, resolve_target
from shared.webhooks.signing import webhook_headers

log = logging.getLogger(__name__)

EVENT_TYPES: dict[str, str] = {
    JobStatus.completed.value: "job.completed",
    JobStatus.failed.value: "job.failed",
    JobStatus.cancelled.value: "job.cancelled",
}
EXCERPT_BYTES = 512
USER_AGENT = "DeepfakeStream-Webhooks/1"
#: A pending delivery whose time came this long ago without a worker taking it lost its message.
LOST_MESSAGE_AFTER = timedelta(seconds=30)
#: An attempt cannot outlive its connect + read deadline; past that plus this margin (DNS, the
#: database) a delivery still `sending` was caught by a worker that died, and is sent again.
STUCK_MARGIN = timedelta(seconds=10)


def new_message_id() -> str:
    return "msg_" + new_ulid()


def event_payload(event_type: str, data: Mapping[str, Any], at: datetime) -> str:
    """The exact body sent (and signed) on every try of this event."""
    timestamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":"))


def _new_delivery(
    tenant_id: str, event_type: str, url: str, data: Mapping[str, Any], settings: Settings
) -> dict[str, Any]:
    """The columns of a new, not yet tried delivery of one event (a job's or a stream's)."""
    now = utcnow()
    return {
        "id": new_message_id(),
        "tenant_id": tenant_id,
        "event_type": event_type,
        "url": url,
        "payload": event_payload(event_type, data, now),
        "status": DeliveryStatus.pending.value,
        "attempts": 0,
        "attempt_limit": settings.webhook_max_attempts,
        "created_at": now,
        "updated_at": now,
    }


def create_delivery(session: Session, job: Job, data: Mapping[str, Any], settings: Settings) -> str | None:
    """The delivery for the job's terminal status, created once (a second call finds it), with
    `data` (the job's public document) as its payload. Returns its id while it still needs
    sending; None without a callback or when disabled."""
    event_type = EVENT_TYPES.get(job.status)
    if event_type is None or not job.callback_url or job.callback_disabled_at is not None:
        return None
    ensure_tenant(session, job.tenant_id)
    insert = dialect_insert(session)
    session.execute(
        insert(WebhookDelivery)
        .values(
            job_id=job.id,
            **_new_delivery(job.tenant_id, event_type, job.callback_url, data, settings),
        )
        .on_conflict_do_nothing(index_elements=["job_id", "event_type"])
    )
    row = session.execute(
        select(WebhookDelivery).where(
            WebhookDelivery.job_id == job.id, WebhookDelivery.event_type == event_type
        )
    ).scalar_one()
    return row.id if row.status == DeliveryStatus.pending.value else None


def create_stream_delivery(
    session: Session, stream: Stream, event_type: str, data: Mapping[str, Any], settings: Settings
) -> str | None:
    """A delivery of one stream event (`stream.alert`, `stream.ended`, `stream.failed`): the
    caller creates each event once (in the transaction that decided it). Its id, or None without
    a callback or when the callback was disabled by a 410."""
    if not stream.callback_url or stream.callback_disabled_at is not None:
        return None
    ensure_tenant(session, stream.tenant_id)
    delivery = WebhookDelivery(
        job_id=None,
        stream_id=stream.id,
        **_new_delivery(stream.tenant_id, event_type, stream.callback_url, data, settings),
    )
    session.add(delivery)
    session.flush()
    return delivery.id


def deliveries_of(session: Session, job_id: str) -> list[WebhookDelivery]:
    return list(
        session.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.job_id == job_id)
            .order_by(WebhookDelivery.created_at)
        ).scalars()
    )


def stream_deliveries_of(session: Session, stream_id: str) -> list[WebhookDelivery]:
    return list(
        session.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.stream_id == stream_id)
            .order_by(WebhookDelivery.created_at)
        ).scalars()
    )


# --- one try ------------------------------------------------------------------------------


@dataclass
class Claim:
    delivery_id: str
    job_id: str | None
    number: int
    url: str
    body: bytes
    secrets: list[str]
    callback_disabled: bool
    stream_id: str | None = None


@dataclass
class Response:
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    retry_after_s: float | None = None
    duration_ms: int = 0
    refused: bool = False


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in_s: float | None = None


def claim(delivery_id: str, session: Session) -> Claim | None:
    """Take the next try of a pending delivery whose time has come and write its attempt row.
    None when another worker has it, it is finished, or its time has not come (a duplicate)."""
    now = utcnow()
    res = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.pending.value,
            or_(
                WebhookDelivery.next_attempt_at.is_(None),
                WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1),
            ),
        )
        .values(
            status=DeliveryStatus.sending.value,
            attempts=WebhookDelivery.attempts + 1,
            next_attempt_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not res.rowcount:  # type: ignore[attr-defined]
        return None
    delivery = session.execute(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    session.add(WebhookAttempt(delivery_id=delivery_id, number=delivery.attempts, started_at=now))
    owner: Job | Stream | None
    if delivery.stream_id is not None:
        owner = session.get(Stream, delivery.stream_id)
    else:
        owner = session.get(Job, delivery.job_id)
    tenant = ensure_tenant(session, delivery.tenant_id)
    return Claim(
        delivery_id=delivery_id,
        job_id=delivery.job_id,
        number=delivery.attempts,
        url=delivery.url,
        body=delivery.payload.encode("utf-8"),
        secrets=signing_secrets(tenant, now),
        callback_disabled=owner is None or owner.callback_disabled_at is not None,
        stream_id=delivery.stream_id,
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or utcnow())).total_seconds())


def send(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> Response:
    """POST once to the vetted address of `url`; never follows redirects; bounded waits."""
    start = time.perf_counter()
    out = Response()
    try:
        target = resolve_target(url, settings.webhook_allowed_networks)
        timeout = httpx.Timeout(
            connect=settings.webhook_connect_timeout_s,
            read=settings.webhook_read_timeout_s,
            write=settings.webhook_read_timeout_s,
            pool=settings.webhook_connect_timeout_s,
        )
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST",
                target.pinned_url,
                content=body,
                headers=headers | {"host": target.host_header, "user-agent": USER_AGENT},
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                out.status_code = response.status_code
                out.retry_after_s = parse_retry_after(response.headers.get("retry-after"))
                excerpt = bytearray()
                deadline = start + settings.webhook_connect_timeout_s + settings.webhook_read_timeout_s
                for chunk in response.iter_raw():
                    excerpt += chunk
                    if len(excerpt) >= EXCERPT_BYTES or time.perf_counter() > deadline:
                        break
                out.excerpt = bytes(excerpt[:EXCERPT_BYTES]).decode("utf-8", "replace")
            finally:
                response.close()
    except CallbackRefused as exc:
        out.error, out.refused = f"refused: {exc.detail}", True
    except CallbackUnresolvable as exc:
        out.error = exc.detail
    except httpx.TimeoutException as exc:
        out.error = f"timeout: {type(exc).__name__}"
    except httpx.HTTPError as exc:
        out.error = f"{type(exc).__name__}: {exc}"[:500]
    out.duration_ms = int((time.perf_counter() - start) * 1000)
    return out


def backoff_s(attempt: int, settings: Settings, retry_after_s: float | None = None) -> float:
    """Delay before the try after `attempt`: the receiver's Retry-After when it gave one, else
    base × 2^(attempt-1) with ±25 % jitter; never above webhook_backoff_max_s."""
    if retry_after_s is not None:
        return min(settings.webhook_backoff_max_s, retry_after_s)
    delay = settings.webhook_backoff_base_s * 2 ** (attempt - 1)
    return min(settings.webhook_backoff_max_s, delay * random.uniform(0.75, 1.25))


def record(session: Session, c: Claim, r: Response, settings: Settings) -> Outcome:
    """Write the try's outcome and decide the delivery's next state."""
    now = utcnow()
    session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == c.delivery_id, WebhookAttempt.number == c.number)
        .values(
            finished_at=now,
            status_code=r.status_code,
            duration_ms=r.duration_ms,
            response_excerpt=r.excerpt,
            error=r.error,
        )
    )
    delivery = session.get(WebhookDelivery, c.delivery_id)
    if delivery is None:  # the job was purged meanwhile
        return Outcome(DeliveryStatus.failed.value)
    retry_in: float | None = None
    if r.status_code is not None and 200 <= r.status_code < 300:
        status = DeliveryStatus.succeeded
    elif r.status_code == 410:
        status = DeliveryStatus.disabled
        if c.stream_id is not None:
            disable_stream_callback(session, c.stream_id, now)
        elif c.job_id is not None:
            disable_callback(session, c.job_id, now)
    elif r.refused or delivery.attempts >= delivery.attempt_limit:
        status = DeliveryStatus.failed
    else:
        status = DeliveryStatus.pending
        retry_in = backoff_s(delivery.attempts, settings, r.retry_after_s)
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == c.delivery_id, WebhookDelivery.status == DeliveryStatus.sending.value)
        .values(
            status=status.value,
            next_attempt_at=now + timedelta(seconds=retry_in) if retry_in is not None else None,
            updated_at=now,
        )
    )
    return Outcome(status.value, retry_in)


def disable_callback(session: Session, job_id: str, now: datetime) -> None:
    """The receiver said 410 Gone: stop every pending event of this job's callback."""
    session.execute(update(Job).where(Job.id == job_id).values(callback_disabled_at=now))
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.job_id == job_id, WebhookDelivery.status == DeliveryStatus.pending.value)
        .values(status=DeliveryStatus.disabled.value, next_attempt_at=None, updated_at=now)
    )


def disable_stream_callback(session: Session, stream_id: str, now: datetime) -> None:
    """The receiver said 410 Gone to a stream event: stop that stream's pending events."""
    session.execute(update(Stream).where(Stream.id == stream_id).values(callback_disabled_at=now))
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.stream_id == stream_id, WebhookDelivery.status == DeliveryStatus.pending.value)
        .values(status=DeliveryStatus.disabled.value, next_attempt_at=None, updated_at=now)
    )


def finish_without_sending(session: Session, c: Claim, reason: str, status: DeliveryStatus) -> Outcome:
    now = utcnow()
    session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == c.delivery_id, WebhookAttempt.number == c.number)
        .values(finished_at=now, duration_ms=0, error=reason)
    )
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == c.delivery_id)
        .values(status=status.value, next_attempt_at=None, updated_at=now)
    )
    return Outcome(status.value)


def attempt(delivery_id: str, settings: Settings) -> Outcome | None:
    """One try of a delivery: claim it (attempt row committed first), sign, send, record.
    None when there was nothing to do (finished, taken by another worker, a duplicate)."""
    sessions = scope_for(settings)
    with sessions() as s:
        c = claim(delivery_id, s)
    if c is None:
        return None
    if c.callback_disabled:
        with sessions() as s:
            return finish_without_sending(
                s, c, "the callback was disabled by a 410 Gone response", DeliveryStatus.disabled
            )
    headers = webhook_headers(c.secrets, delivery_id, int(time.time()), c.body)
    response = send(c.url, c.body, headers, settings)
    with sessions() as s:
        outcome = record(s, c, response, settings)
    log.info(
        "webhook attempt %d: %s -> %s",
        c.number,
        response.status_code if response.status_code is not None else response.error,
        outcome.status,
        extra={
            "job_id": c.job_id,
            "delivery_id": delivery_id,
            "status_code": response.status_code,
            "duration_ms": response.duration_ms,
        },
    )
    return outcome


# --- maintenance and redelivery -----------------------------------------------------------


def sweep(session: Session, settings: Settings) -> list[str]:
    """Deliveries whose queue message was lost (broker flush/restart) or whose worker died
    mid-try: put them back in `pending` and return their ids to queue again. A stuck one is
    queued again by the same sweep, so a killed webhook worker delays its delivery by the
    attempt's deadline plus `STUCK_MARGIN` plus at most one sweep interval (at-least-once: the
    receiver may see that event twice, with the same webhook-id)."""
    now = utcnow()
    stuck_after = (
        timedelta(seconds=settings.webhook_connect_timeout_s + settings.webhook_read_timeout_s) + STUCK_MARGIN
    )
    stuck = list(
        session.execute(
            select(WebhookDelivery).where(
                WebhookDelivery.status == DeliveryStatus.sending.value,
                WebhookDelivery.updated_at < now - stuck_after,
            )
        ).scalars()
    )
    for d in stuck:
        session.execute(
            update(WebhookAttempt)
            .where(
                WebhookAttempt.delivery_id == d.id,
                WebhookAttempt.number == d.attempts,
                WebhookAttempt.finished_at.is_(None),
            )
            .values(finished_at=now, error="the worker stopped during this attempt")
        )
        exhausted = d.attempts >= d.attempt_limit
        d.status = (DeliveryStatus.failed if exhausted else DeliveryStatus.pending).value
        d.next_attempt_at = None
    requeued = [d.id for d in stuck if d.status == DeliveryStatus.pending.value]
    due = session.execute(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.pending.value,
            or_(
                WebhookDelivery.next_attempt_at < now - LOST_MESSAGE_AFTER,
                WebhookDelivery.next_attempt_at.is_(None)
                & (WebhookDelivery.updated_at < now - LOST_MESSAGE_AFTER),
            ),
        )
        .limit(1000)
    ).scalars()
    return requeued + [d for d in due if d not in requeued]


def redeliver(
    session: Session, job: Job, data: Mapping[str, Any], settings: Settings, delivery_id: str | None = None
) -> list[str]:
    """Send a finished job's events again (same webhook-id), with a fresh budget of attempts;
    `data` is the payload of an event never stored before. Re-enables a callback disabled by
    410. Returns the delivery ids to queue."""
    if not JobStatus(job.status).is_terminal:
        raise Conflict(f"job {job.id} has not finished; there is no event to send yet")
    if not job.callback_url:
        raise Conflict(f"job {job.id} has no callback_url")
    job.callback_disabled_at = None
    session.flush()
    create_delivery(session, job, data, settings)
    rows = deliveries_of(session, job.id)
    if delivery_id is not None:
        rows = [d for d in rows if d.id == delivery_id]
        if not rows:
            raise NotFound(f"job {job.id} has no delivery {delivery_id}")
    queued = []
    now = utcnow()
    for d in rows:
        if d.status == DeliveryStatus.sending.value:
            continue  # a try is under way; it continues with its own schedule
        d.status = DeliveryStatus.pending.value
        d.next_attempt_at = None
        d.attempt_limit = d.attempts + settings.webhook_max_attempts
        d.updated_at = now
        queued.append(d.id)
    return queued
