"""API keys, tenant isolation, rate limits and the running-jobs cap, on a stack whose auth is on
only because its database is Postgres (nobody set DFS_AUTH_ENABLED)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from shared.client import verify_webhook
from tests.integrator.conftest import TenantKeys, api_client, create_key, make_tenant
from tests.integrator.test_webhooks import independent_signature_ok, submit
from tests.support.receiver import Receiver
from tests.support.services import Stack, wait_job

pytestmark = pytest.mark.slow


def test_requests_without_a_valid_key_are_refused(auth_stack: Stack, tenant_a: TenantKeys) -> None:
    assert "DFS_AUTH_ENABLED" not in auth_stack.env
    with api_client(auth_stack, None) as anon:
        r = anon.get("/v1/jobs")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["type"] == "/problems/unauthorized"
        assert anon.get("/healthz").status_code == 200, "operations endpoints stay open"
    with api_client(auth_stack, "dfs_" + "x" * 43) as forged:
        assert forged.get("/v1/jobs").status_code == 401


def test_a_tenant_cannot_see_touch_or_get_webhooks_for_another_tenants_job(
    auth_stack: Stack,
    client_a: httpx.Client,
    client_b: httpx.Client,
    tenant_a: TenantKeys,
    tenant_b: TenantKeys,
    receiver: Receiver,
    face_image: Path,
) -> None:
    url = receiver.url("/hook/tenant-b", "200")
    job = submit(client_b, face_image, callback_url=url)
    job_id = job["id"]

    assert client_a.get(f"/v1/jobs/{job_id}").status_code == 404
    assert job_id not in [j["id"] for j in client_a.get("/v1/jobs", params={"limit": 100}).json()["items"]]
    assert client_a.get(f"/v1/jobs/{job_id}/deliveries").status_code == 404
    assert client_a.post(f"/v1/jobs/{job_id}/deliveries/redeliver").status_code == 404
    r = client_a.delete(f"/v1/jobs/{job_id}")
    assert r.status_code == 404 and r.json()["type"] == "/problems/not-found"

    done = wait_job(client_b, job_id, stack=auth_stack)
    assert done["status"] == "completed", "A's DELETE must not have cancelled B's job"
    assert job_id in [j["id"] for j in client_b.get("/v1/jobs", params={"limit": 100}).json()["items"]]
    [req] = receiver.wait_for("/hook/tenant-b", 1)
    assert independent_signature_ok(tenant_b.secret, req.headers, req.body)
    assert not independent_signature_ok(tenant_a.secret, req.headers, req.body)
    assert verify_webhook(tenant_b.secret, req.headers, req.body)["data"]["id"] == job_id


def test_a_revoked_key_answers_401(auth_stack: Stack, tenant_a: TenantKeys) -> None:
    key, key_id = create_key(auth_stack, tenant_a.id, "--name", "short-lived")
    with api_client(auth_stack, key) as c:
        assert c.get("/v1/jobs").status_code == 200
        listing = auth_stack.cli("keys", "list", "--tenant", tenant_a.id).stdout
        assert key_id in listing and key not in listing, "keys are never shown again"
        auth_stack.cli("keys", "revoke", key_id)
        r = c.get("/v1/jobs")
        assert r.status_code == 401 and "revoked" in r.json()["detail"]
    with api_client(auth_stack, tenant_a.key) as other:
        assert other.get("/v1/jobs").status_code == 200, "the tenant's other keys still work"


def test_rate_limit_per_key_answers_429_with_retry_after(auth_stack: Stack) -> None:
    tenant = make_tenant(
        auth_stack, "tenant-limited", key_opts=("--rate-limit-per-minute", "30", "--burst", "3")
    )
    with api_client(auth_stack, tenant.key) as c:
        codes = [c.get("/v1/jobs").status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = c.get("/v1/jobs")
        assert r.status_code == 429
        assert r.json()["type"] == "/problems/rate-limited"
        assert 1 <= int(r.headers["retry-after"]) <= 2  # one token per 2 s
        time.sleep(int(r.headers["retry-after"]))
        assert c.get("/v1/jobs").status_code == 200
    other = make_tenant(auth_stack, "tenant-unlimited")
    with api_client(auth_stack, other.key) as c:
        assert c.get("/v1/jobs").status_code == 200, "buckets are per key"


def test_running_jobs_cap_per_tenant(auth_stack: Stack, face_clip: Path, face_image: Path) -> None:
    tenant = make_tenant(auth_stack, "tenant-capped", "--max-running-jobs", "1")
    with api_client(auth_stack, tenant.key) as c:
        first = submit(c, face_clip)
        with open(face_image, "rb") as fh:
            r = c.post("/v1/jobs", files={"file": ("x.jpg", fh, "image/jpeg")})
        assert r.status_code == 429, r.text
        assert "limit 1" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1
        assert c.delete(f"/v1/jobs/{first['id']}").json()["status"] == "cancelled"
        second = submit(c, face_image)
        assert wait_job(c, second["id"], stack=auth_stack)["status"] == "completed"
