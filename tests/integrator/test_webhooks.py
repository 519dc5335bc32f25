"""Signed webhooks to a real receiver on loopback, delivered by a real webhooks worker."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import httpx
import pytest

from shared.client import WebhookVerificationError, verify_webhook
from tests.integrator.conftest import TenantKeys, make_tenant
from tests.support.receiver import Receiver
from tests.support.services import Stack, wait_job
from tests.support.wait import stays_true, wait_until

pytestmark = pytest.mark.slow


def independent_signature_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks scheme written from the spec, not from our implementation."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, sig) for sig in headers["webhook-signature"].split(" "))


def submit(client: httpx.Client, path: Path, **fields: str) -> dict:
    with open(path, "rb") as fh:
        r = client.post("/v1/jobs", files={"file": (path.name, fh, "application/octet-stream")}, data=fields)
    assert r.status_code == 202, r.text
    return r.json()


def deliveries(client: httpx.Client, job_id: str) -> list[dict]:
    r = client.get(f"/v1/jobs/{job_id}/deliveries")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def wait_delivery(client: httpx.Client, job_id: str, status: str, timeout: float = 60) -> dict:
    def first_with_status() -> dict | None:
        items = deliveries(client, job_id)
        return items[0] if items and items[0]["status"] == status else None

    return wait_until(
        first_with_status,
        timeout,
        f"the delivery of {job_id} to be {status}",
        detail=lambda: f"deliveries: {deliveries(client, job_id)}",
    )


def test_completed_job_sends_a_signed_event_verifiable_with_the_tenant_secret(
    client_a: httpx.Client,
    tenant_a: TenantKeys,
    tenant_b: TenantKeys,
    receiver: Receiver,
    auth_stack: Stack,
    face_image: Path,
) -> None:
    url = receiver.url("/hook/signed", "200")
    job = submit(client_a, face_image, callback_url=url, metadata='{"case": "w-1"}')
    done = wait_job(client_a, job["id"], stack=auth_stack)
    assert done["status"] == "completed"
    [req] = receiver.wait_for("/hook/signed", 1)
    assert abs(int(req.headers["webhook-timestamp"]) - time.time()) < 30
    assert req.headers["webhook-id"].startswith("msg_")
    assert independent_signature_ok(tenant_a.secret, req.headers, req.body)
    assert not independent_signature_ok(tenant_b.secret, req.headers, req.body), (
        "another tenant's secret must not verify"
    )

    event = verify_webhook(tenant_a.secret, req.headers, req.body)
    assert event["type"] == "job.completed"
    assert event["data"]["id"] == job["id"] and event["data"]["status"] == "completed"
    assert event["data"]["result"]["verdict"] == done["result"]["verdict"]
    assert event["data"]["metadata"] == {"case": "w-1"}

    tampered = req.body.replace(b'"w-1"', b'"w-2"')
    with pytest.raises(WebhookVerificationError):
        verify_webhook(tenant_a.secret, req.headers, tampered)
    stale = dict(req.headers, **{"webhook-timestamp": str(int(req.headers["webhook-timestamp"]) - 600)})
    with pytest.raises(WebhookVerificationError):
        verify_webhook(tenant_a.secret, stale, req.body)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(tenant_b.secret, req.headers, req.body)

    [delivery] = deliveries(client_a, job["id"])
    assert delivery["id"] == req.headers["webhook-id"]
    assert delivery["type"] == "job.completed" and delivery["status"] == "succeeded"
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 200 and attempt["response_excerpt"] == "answer 200"
    assert attempt["duration_ms"] is not None and attempt["error"] is None


def test_receiver_errors_are_retried_with_the_same_webhook_id(
    client_a: httpx.Client, receiver: Receiver, auth_stack: Stack, face_image: Path
) -> None:
    url = receiver.url("/hook/flaky", "500", "500", "200")
    job = submit(client_a, face_image, callback_url=url)
    wait_job(client_a, job["id"], stack=auth_stack)
    delivery = wait_delivery(client_a, job["id"], "succeeded")
    reqs = receiver.received("/hook/flaky")
    assert len(reqs) == 3
    assert len({r.headers["webhook-id"] for r in reqs}) == 1
    assert reqs[0].body == reqs[1].body == reqs[2].body
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]
    # exponential backoff: the second wait is longer than the first (base 0.3 s, ±25 % jitter)
    gap1, gap2 = reqs[1].at - reqs[0].at, reqs[2].at - reqs[1].at
    assert gap1 >= 0.2 and gap2 > gap1


def test_retry_after_from_the_receiver_is_honoured(
    client_a: httpx.Client, receiver: Receiver, auth_stack: Stack, face_image: Path
) -> None:
    url = receiver.url("/hook/busy", "503:2", "200")
    job = submit(client_a, face_image, callback_url=url)
    wait_job(client_a, job["id"], stack=auth_stack)
    wait_delivery(client_a, job["id"], "succeeded")
    first, second = receiver.received("/hook/busy")
    assert second.at - first.at >= 1.9, "Retry-After: 2 was not honoured (the backoff alone would be ~0.3 s)"


def test_410_gone_disables_the_callback_until_redelivered(
    client_a: httpx.Client, receiver: Receiver, auth_stack: Stack, face_image: Path
) -> None:
    url = receiver.url("/hook/gone", "410", "200")
    job = submit(client_a, face_image, callback_url=url)
    wait_job(client_a, job["id"], stack=auth_stack)
    delivery = wait_delivery(client_a, job["id"], "disabled")
    assert [a["status_code"] for a in delivery["attempts"]] == [410]
    stays_true(lambda: len(receiver.received("/hook/gone")) == 1, 1.5, "no retry after a 410")

    r = client_a.post(f"/v1/jobs/{job['id']}/deliveries/redeliver")
    assert r.status_code == 202, r.text
    assert [d["id"] for d in r.json()["items"]] == [delivery["id"]]
    again = wait_delivery(client_a, job["id"], "succeeded")
    assert [a["status_code"] for a in again["attempts"]] == [410, 200]
    reqs = receiver.received("/hook/gone")
    assert reqs[0].headers["webhook-id"] == reqs[1].headers["webhook-id"] == delivery["id"]


def test_a_hanging_receiver_times_out_and_is_retried(
    client_a: httpx.Client, receiver: Receiver, auth_stack: Stack, face_image: Path
) -> None:
    url = receiver.url("/hook/slow", "hang", "200")
    job = submit(client_a, face_image, callback_url=url)
    wait_job(client_a, job["id"], stack=auth_stack)
    delivery = wait_delivery(client_a, job["id"], "succeeded", timeout=90)
    first, second = delivery["attempts"]
    assert first["status_code"] is None and "timeout" in first["error"].lower()
    assert first["duration_ms"] < 4000, "the read timeout (1.5 s) must cut the attempt short"
    assert second["status_code"] == 200


def test_attempts_are_bounded(
    client_a: httpx.Client, receiver: Receiver, auth_stack: Stack, face_image: Path
) -> None:
    url = receiver.url("/hook/down", "500")
    job = submit(client_a, face_image, callback_url=url)
    wait_job(client_a, job["id"], stack=auth_stack)
    delivery = wait_delivery(client_a, job["id"], "failed", timeout=90)
    assert len(delivery["attempts"]) == 4  # DFS_WEBHOOK_MAX_ATTEMPTS
    stays_true(lambda: len(receiver.received("/hook/down")) == 4, 1.5, "no fifth attempt")


def test_failed_job_sends_job_failed(
    client_a: httpx.Client, tenant_a: TenantKeys, receiver: Receiver, auth_stack: Stack, corrupt_clip: Path
) -> None:
    url = receiver.url("/hook/failed", "200")
    job = submit(client_a, corrupt_clip, callback_url=url)
    assert wait_job(client_a, job["id"], stack=auth_stack)["status"] == "failed"
    [req] = receiver.wait_for("/hook/failed", 1)
    event = verify_webhook(tenant_a.secret, req.headers, req.body)
    assert event["type"] == "job.failed"
    assert event["data"]["error"]["type"] == "/problems/corrupt-media"


def test_secret_rotation_sends_both_signatures(
    auth_stack: Stack, receiver: Receiver, face_image: Path
) -> None:
    tenant = make_tenant(auth_stack, "tenant-rotating")
    out = auth_stack.cli("tenants", "rotate-webhook-secret", tenant.id, "--grace-hours", "1").stdout
    new_secret = out.split("webhook secret:", 1)[1].strip()
    assert new_secret.startswith("whsec_") and new_secret != tenant.secret
    url = receiver.url("/hook/rotating", "200")
    with httpx.Client(base_url=auth_stack.api_url, headers={"authorization": f"Bearer {tenant.key}"}) as c:
        job = submit(c, face_image, callback_url=url)
        wait_job(c, job["id"], stack=auth_stack)
    [req] = receiver.wait_for("/hook/rotating", 1)
    assert len(req.headers["webhook-signature"].split(" ")) == 2
    assert independent_signature_ok(new_secret, req.headers, req.body)
    assert independent_signature_ok(tenant.secret, req.headers, req.body)
    assert json.loads(req.body)["data"]["id"] == job["id"]
