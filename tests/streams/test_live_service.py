"""Live streams through the real service: API, ingest worker, detect worker, webhooks worker,
Postgres, Redis, S3, and real ffmpeg sources on loopback (MPEG-TS over HTTP and HLS)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.receiver import Receiver
from tests.support.services import Stack
from tests.support.streams import HLSServer, Publisher
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow

SECRET = "pw-s3cret"


@pytest.fixture
def api(live_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_stack.api_url, timeout=60) as c:
        yield c


def wait_status(
    api: httpx.Client, stream_id: str, statuses: set[str], stack: Stack, timeout: float = 300
) -> dict:
    def done() -> dict | None:
        doc = api.get(f"/v1/streams/{stream_id}").json()
        return doc if doc["status"] in statuses else None

    return wait_until(done, timeout, f"stream {stream_id} in {statuses}", detail=lambda: stack.log_tail(30))


def read_sse(api: httpx.Client, stream_id: str, last_event_id: str | None = None) -> tuple[str, list[dict]]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    with api.stream("GET", f"/v1/streams/{stream_id}/events", headers=headers, timeout=120) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    events = []
    for block in raw.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value.strip()
        if "event" in fields:
            events.append({"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])})
    return raw, events


def test_mpegts_stream_scored_in_order_alert_once_ended_and_sse_resumable(
    api: httpx.Client, live_stack: Stack, stream_clip: Path, receiver: Receiver
) -> None:
    publisher = Publisher(stream_clip, loops=1, path="/live.ts")  # 8 s of video, then it stops
    url = publisher.url.replace("http://", f"http://viewer:{SECRET}@")
    try:
        r = api.post(
            "/v1/streams",
            json={
                "url": url,
                "callback_url": receiver.url("/stream-hooks"),
                "segment_seconds": 2,
                "alert_threshold": 0.0,  # every rolling probability reaches it: one alert, one episode
                "metadata": {"camera": "lobby"},
            },
        )
        assert r.status_code == 201, r.text
        created = r.json()
        assert r.headers["location"] == f"/v1/streams/{created['id']}"
        assert (
            created["status"] == "connecting" and SECRET not in r.text and "***@127.0.0.1" in created["url"]
        )
        doc = wait_status(api, created["id"], {"ended", "failed", "stopped"}, live_stack)
    finally:
        publisher.stop()
    assert doc["status"] == "ended", doc
    assert doc["segments_done"] >= 3 and doc["ended_at"] and doc["started_at"]
    assert doc["rolling"]["verdict"] in ("fake", "real") and 0.0 <= doc["rolling"]["probability"] <= 1.0
    assert doc["rolling"]["window_segments"] >= 1 and doc["model"]["sha256"]
    assert len(doc["alerts"]) == 1 and doc["alerts"][0]["index"] == 0

    segs = api.get(f"/v1/streams/{created['id']}/segments", params={"limit": 2}).json()
    items = segs["items"]
    while segs["next_cursor"] is not None:
        segs = api.get(f"/v1/streams/{created['id']}/segments", params={"cursor": segs["next_cursor"]}).json()
        items += segs["items"]
    assert [s["index"] for s in items] == list(range(len(items) - 1, -1, -1))  # newest first, none missing
    ordered = items[::-1]
    assert len(ordered) == doc["segments_done"] and all(s["status"] == "done" for s in ordered)
    assert all(s["faces"] > 0 and s["probability"] is not None for s in ordered)
    assert ordered[0]["start_s"] == 0.0
    for a, b in zip(ordered, ordered[1:], strict=False):
        assert b["start_s"] == pytest.approx(a["end_s"]) and b["end_s"] > b["start_s"]
    assert ordered[-1]["end_s"] == pytest.approx(8.0, abs=0.6)

    raw, events = read_sse(api, created["id"])
    assert SECRET not in raw
    assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "status" and events[0]["data"]["status"] == "connecting"
    assert events[-1] == {"id": str(len(events)), "event": "status", "data": {"status": "ended"}}
    assert kinds.count("alert") == 1 and kinds.count("segment") == doc["segments_done"]
    assert [e["data"]["index"] for e in events if e["event"] == "segment"] == list(
        range(doc["segments_done"])
    )
    # Resumed after the 3rd event: exactly what followed, nothing twice.
    _, tail = read_sse(api, created["id"], last_event_id="3")
    assert tail == events[3:]

    hooks = receiver.wait_for("/stream-hooks", 2, timeout=60)
    bodies = [json.loads(h.body) for h in hooks]
    assert sorted(b["type"] for b in bodies) == ["stream.alert", "stream.ended"]
    for hook in hooks:
        assert hook.headers.get("webhook-signature") and SECRET.encode() not in hook.body
    ended = next(b for b in bodies if b["type"] == "stream.ended")["data"]
    assert (
        ended["id"] == created["id"]
        and ended["status"] == "ended"
        and ended["metadata"] == {"camera": "lobby"}
    )
    time.sleep(2)
    assert len(receiver.received("/stream-hooks")) == 2  # one alert per episode, not one per segment
    log = api.get(f"/v1/streams/{created['id']}/deliveries").json()["items"]
    assert sorted((d["type"], d["status"]) for d in log) == [
        ("stream.alert", "succeeded"),
        ("stream.ended", "succeeded"),
    ]
    assert all(d["attempts"][0]["status_code"] == 200 for d in log)

    listed = api.get("/v1/streams").json()["items"]
    assert created["id"] in [s["id"] for s in listed] and SECRET not in json.dumps(listed)


def test_hls_playlist_from_a_loopback_server(
    api: httpx.Client, live_stack: Stack, stream_clip: Path, tmp_path: Path
) -> None:
    hls = HLSServer(stream_clip, tmp_path / "hls", loops=1)
    try:
        r = api.post("/v1/streams", json={"url": hls.url, "segment_seconds": 2})
        assert r.status_code == 201, r.text
        doc = wait_status(api, r.json()["id"], {"ended", "failed", "stopped"}, live_stack)
    finally:
        hls.stop()
    assert doc["status"] == "ended", doc
    items = api.get(f"/v1/streams/{doc['id']}/segments").json()["items"][::-1]
    assert [s["index"] for s in items] == list(range(len(items))) and len(items) >= 3
    assert all(b["start_s"] >= a["end_s"] - 0.01 for a, b in zip(items, items[1:], strict=False))
    assert doc["rolling"]["probability"] is not None


def test_delete_stops_a_live_stream_and_keeps_its_scores(
    api: httpx.Client, live_stack: Stack, stream_clip: Path
) -> None:
    publisher = Publisher(stream_clip, loops=30)  # two minutes of video
    try:
        created = api.post("/v1/streams", json={"url": publisher.url, "segment_seconds": 2}).json()
        wait_until(
            lambda: api.get(f"/v1/streams/{created['id']}").json()["segments_done"] >= 1,
            240,
            "a first scored segment",
            detail=lambda: live_stack.log_tail(30),
        )
        r = api.delete(f"/v1/streams/{created['id']}")
        assert r.status_code == 200 and r.json()["stop_requested"] is True
        doc = wait_status(api, created["id"], {"ended", "failed", "stopped"}, live_stack, timeout=120)
    finally:
        publisher.stop()
    assert doc["status"] == "stopped", doc
    assert doc["segments_done"] >= 1 and doc["ended_at"]
    items = api.get(f"/v1/streams/{doc['id']}/segments").json()["items"]
    assert len(items) == doc["segments_done"] and all(s["status"] == "done" for s in items)
    assert doc["segments_done"] < 30  # it did not run to the source's end
    again = api.delete(f"/v1/streams/{doc['id']}")
    assert again.status_code == 200 and again.json()["status"] == "stopped"


def test_cli_submit_stream_wait_follows_the_events(live_stack: Stack, stream_clip: Path) -> None:
    """`deepfakestream submit --stream URL --wait` against the server: one line per segment as
    it is scored (read from the SSE), then the final status."""
    publisher = Publisher(stream_clip, loops=0)  # 4 s
    try:
        r = live_stack.cli(
            "submit", "--stream", publisher.url, "--wait", "--server", live_stack.api_url, check=False
        )
    finally:
        publisher.stop()
    assert r.returncode == 0, r.stderr + live_stack.log_tail(30)
    lines = r.stdout.strip().splitlines()
    segments = [ln for ln in lines if ln.startswith("segment ")]
    assert segments and segments[0].split()[1] == "0" and "faces=" in segments[0]
    assert lines[-1] == "stream ended" and "watching http://127.0.0.1" in r.stderr
    bad = live_stack.cli(
        "submit", "--stream", "file:///etc/passwd", "--server", live_stack.api_url, check=False
    )
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "not allowed" in bad.stderr
