"""Delivery logic in-process (SQLite) against a real receiver on loopback: the SSRF guard at
send time, no redirects, attempt rows, idempotent event creation, the sweep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from shared.config import Settings, get_settings
from shared.db import DeliveryStatus, Job, JobStatus, WebhookDelivery, session_scope
from shared.db.models import utcnow
from shared.jobs.events import record_finished
from shared.webhooks.delivery import attempt, deliveries_of, sweep
from tests.support.receiver import Receiver, start_receiver


@pytest.fixture
def rx() -> Iterator[Receiver]:
    r = start_receiver()
    yield r
    r.stop()


def finished_job(callback_url: str | None, status: str = JobStatus.completed.value) -> str:
    with session_scope() as s:
        job = Job(
            id="01JTESTJOB0000000000000001",
            status=status,
            media_kind="image",
            content_type="image/jpeg",
            size_bytes=10,
            source_key="uploads/x/source.jpg",
            callback_url=callback_url,
            completed_at=utcnow(),
        )
        s.add(job)
    return job.id


def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DFS_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    get_settings.cache_clear()
    return get_settings()


def test_a_callback_that_resolves_to_loopback_is_refused_at_send_time(
    embedded_settings: Settings, rx: Receiver
) -> None:
    # `localhost` passes no submit-time DNS check here (as a rebinding name would); the send-time check catches it
    job_id = finished_job(rx.url("/hook/internal", "200").replace("127.0.0.1", "localhost"))
    delivery_id = record_finished(job_id, embedded_settings)
    assert delivery_id is not None
    outcome = attempt(delivery_id, embedded_settings)
    assert (
        outcome is not None and outcome.status == DeliveryStatus.failed.value and outcome.retry_in_s is None
    )
    assert rx.received("/hook/internal") == []
    with session_scope() as s:
        [d] = deliveries_of(s, job_id)
        [a] = d.attempt_log
        assert "refused" in (a.error or "") and "loopback" in (a.error or "") and a.status_code is None


def test_allow_listed_loopback_is_delivered_and_redirects_are_not_followed(
    embedded_settings: Settings, monkeypatch: pytest.MonkeyPatch, rx: Receiver
) -> None:
    settings = allow_loopback(monkeypatch)
    job_id = finished_job(rx.url("/hook/moved", "302", "200"))
    delivery_id = record_finished(job_id, settings)
    assert delivery_id is not None
    assert record_finished(job_id, settings) == delivery_id, "one delivery per event"
    first = attempt(delivery_id, settings)
    assert first is not None and first.status == "pending" and first.retry_in_s is not None
    assert attempt(delivery_id, settings) is None, "a duplicate message before the retry is due does nothing"
    assert rx.received("/hook/redirect-target") == [], "the redirect was not followed"
    with session_scope() as s:
        s.get(WebhookDelivery, delivery_id).next_attempt_at = utcnow()  # type: ignore[union-attr]
    second = attempt(delivery_id, settings)
    assert second is not None and second.status == "succeeded"
    with session_scope() as s:
        [d] = deliveries_of(s, job_id)
        assert [(a.number, a.status_code) for a in d.attempt_log] == [(1, 302), (2, 200)]
    assert record_finished(job_id, settings) is None, "a delivered event is not queued again"


def test_the_sweep_requeues_lost_messages_and_stuck_attempts(
    embedded_settings: Settings, monkeypatch: pytest.MonkeyPatch, rx: Receiver
) -> None:
    settings = allow_loopback(monkeypatch)
    job_id = finished_job(rx.url("/hook/swept", "200"), status=JobStatus.failed.value)
    delivery_id = record_finished(job_id, settings)
    assert delivery_id is not None
    with session_scope() as s:
        assert sweep(s, settings) == [], "a fresh delivery's message is still on its way"
        d = s.get(WebhookDelivery, delivery_id)
        assert d is not None and d.event_type == "job.failed"
        d.status, d.attempts, d.updated_at = DeliveryStatus.sending.value, 1, utcnow() - timedelta(minutes=10)
    with session_scope() as s:
        assert sweep(s, settings) == [delivery_id]  # the stuck one is put back to pending and queued at once
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d is not None and d.status == "pending"
    with session_scope() as s:
        assert sweep(s, settings) == [], "queued once: its fresh message is on its way"
        d = s.get(WebhookDelivery, delivery_id)
        assert d is not None
        d.updated_at = utcnow() - timedelta(minutes=10)
    with session_scope() as s:
        assert sweep(s, settings) == [delivery_id]  # a lost message is queued again once overdue
    assert attempt(delivery_id, settings).status == "succeeded"  # type: ignore[union-attr]


def test_a_delivery_caught_by_a_killed_worker_is_sent_again_soon_after_its_deadline(
    embedded_settings: Settings, monkeypatch: pytest.MonkeyPatch, rx: Receiver
) -> None:
    """Stale `sending` means the attempt's connect + read deadline plus a short margin, not a
    minute more (issue 11: a killed webhook worker held a delivery for about 106 s)."""
    settings = allow_loopback(monkeypatch)
    job_id = finished_job(rx.url("/hook/killed", "200"))
    delivery_id = record_finished(job_id, settings)
    assert delivery_id is not None
    deadline = settings.webhook_connect_timeout_s + settings.webhook_read_timeout_s
    with session_scope() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d is not None
        d.status, d.attempts, d.updated_at = (
            DeliveryStatus.sending.value,
            1,
            utcnow() - timedelta(seconds=deadline),
        )
    with session_scope() as s:
        assert sweep(s, settings) == [], "an attempt within its deadline may still be running"
        d = s.get(WebhookDelivery, delivery_id)
        assert d is not None
        d.updated_at = utcnow() - timedelta(seconds=deadline + 20)
    with session_scope() as s:
        assert sweep(s, settings) == [delivery_id]
    outcome = attempt(delivery_id, settings)
    assert outcome is not None and outcome.status == "succeeded"
    assert len(rx.received("/hook/killed")) == 1
