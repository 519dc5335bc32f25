"""Cancel and delete, retention by the periodic sweep, and the reconciler after a broker flush."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from shared.broker.queues import Queue
from tests.integrator.conftest import TenantKeys
from tests.integrator.test_webhooks import deliveries, submit
from tests.support.receiver import Receiver
from tests.support.services import RedisServer, Stack, wait_job
from tests.support.wait import stays_true, wait_until

pytestmark = pytest.mark.slow


def objects_of(stack: Stack, job_id: str) -> list[str]:
    from minio import Minio

    s3 = Minio(
        stack.env["DFS_S3_ENDPOINT"],
        access_key=stack.env["DFS_S3_ACCESS_KEY"],
        secret_key=stack.env["DFS_S3_SECRET_KEY"],
        secure=False,
    )
    bucket = stack.env["DFS_S3_BUCKET"]
    return [
        o.object_name
        for prefix in ("uploads", "segments", "artifacts")
        for o in s3.list_objects(bucket, prefix=f"{prefix}/{job_id}/", recursive=True)
    ]


def test_cancel_mid_processing_deletes_media_and_nothing_resurrects_the_job(
    client_a: httpx.Client, auth_stack: Stack, private_redis: RedisServer, receiver: Receiver, face_clip: Path
) -> None:
    url = receiver.url("/hook/cancelled", "200")
    job = submit(client_a, face_clip, callback_url=url)
    job_id = job["id"]
    # mid-processing: split into segments (objects in S3), detection not finished
    wait_until(
        lambda: client_a.get(f"/v1/jobs/{job_id}").json()["progress"]["segments_total"], 60, "the split"
    )
    assert any(k.startswith("segments/") for k in objects_of(auth_stack, job_id))
    r = client_a.delete(f"/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["media"]["deleted_at"] is not None
    assert cancelled["progress"]["segments_done"] < 3
    assert objects_of(auth_stack, job_id) == []

    # let every queued or running stage of this job run out, watching that it stays cancelled
    redis = private_redis.client()
    wait_until(lambda: redis.llen("detect") == 0 and redis.llen("aggregate") == 0, 60, "the queues to drain")

    def still_cancelled_without_media() -> bool:
        after = client_a.get(f"/v1/jobs/{job_id}").json()
        return (
            after["status"] == "cancelled"
            and after["result"] is None
            and objects_of(auth_stack, job_id) == []
        )

    stays_true(still_cancelled_without_media, 4, "the cancelled job without result or media")
    [req] = receiver.wait_for("/hook/cancelled", 1)
    assert b'"type":"job.cancelled"' in req.body
    assert [d["type"] for d in deliveries(client_a, job_id)] == ["job.cancelled"]
    # a second DELETE is harmless
    assert client_a.delete(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"


def test_purge_removes_the_record(client_a: httpx.Client, auth_stack: Stack, face_image: Path) -> None:
    job = submit(client_a, face_image)
    wait_job(client_a, job["id"], stack=auth_stack)
    r = client_a.delete(f"/v1/jobs/{job['id']}", params={"purge": "true"})
    assert r.status_code == 204
    assert client_a.get(f"/v1/jobs/{job['id']}").status_code == 404
    assert objects_of(auth_stack, job["id"]) == []


def test_deleting_a_finished_job_keeps_its_result(
    client_a: httpx.Client, auth_stack: Stack, face_image: Path
) -> None:
    job = submit(client_a, face_image)
    done = wait_job(client_a, job["id"], stack=auth_stack)
    assert objects_of(auth_stack, job["id"]), "the upload is stored while the job lives"
    after = client_a.delete(f"/v1/jobs/{job['id']}").json()
    assert after["status"] == "completed" and after["result"] == done["result"]
    assert after["media"]["deleted_at"] is not None
    assert objects_of(auth_stack, job["id"]) == []


def test_retention_sweep_deletes_old_media_and_keeps_results(
    client_a: httpx.Client, auth_stack: Stack, face_image: Path
) -> None:
    job = submit(client_a, face_image)
    done = wait_job(client_a, job["id"], stack=auth_stack)
    assert done["status"] == "completed"
    assert objects_of(auth_stack, job["id"])
    # DFS_MEDIA_RETENTION_DAYS is ~17 s in this stack; beat runs the sweep every 2 s
    expired = wait_until(
        lambda: (j := client_a.get(f"/v1/jobs/{job['id']}").json())["media"]["deleted_at"] and j,
        60,
        "retention",
    )
    assert objects_of(auth_stack, job["id"]) == []
    assert expired["result"] == done["result"] and expired["status"] == "completed"


def test_flushing_the_broker_mid_job_does_not_lose_the_job(
    auth_stack: Stack,
    tenant_a: TenantKeys,
    client_a: httpx.Client,
    private_redis: RedisServer,
    face_clip: Path,
) -> None:
    redis = private_redis.client()
    auth_stack.stop("detect")
    try:
        job = submit(client_a, face_clip)
        # the segmenter has split the video and queued one detect task per segment
        wait_until(lambda: redis.llen("detect") >= 3, 60, "the detect tasks")
        redis.flushall()
        # Live workers (and the API's rate limiter) may write fresh bookkeeping keys the moment
        # the flush is done, so `dbsize() == 0` raced (seen in CI); what must be gone is every
        # queued and unacked task message.
        assert [redis.llen(q.value) for q in Queue] == [0] * len(Queue)
        assert redis.hlen("unacked") == 0
    finally:
        auth_stack.start_worker("detect", "detect")
    done = wait_job(client_a, job["id"], timeout=120, stack=auth_stack)
    assert done["status"] == "completed", done
    assert done["progress"] == {"segments_total": 3, "segments_done": 3}
    log = (auth_stack.logs / "cpu.log").read_text()
    assert "reconciler re-queued" in log
