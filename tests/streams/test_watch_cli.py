"""`deepfakestream watch URL`: the same ingest, pipeline and rolling verdict in one process, no
servers, against a real SRT source on loopback; bad URLs are one readable line and an exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.services import REPO_ROOT, free_port
from tests.support.streams import SRTPublisher


def watch(*args: str, tmp: Path, checkpoint: Path, allow: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFS_")} | {
        "PYTHONPATH": str(REPO_ROOT),
        "DFS_DATA_DIR": str(tmp / "data"),
        "DFS_CHECKPOINT": str(checkpoint),
        "DFS_STREAM_SILENCE_TIMEOUT_S": "3",
        "DFS_STREAM_RECONNECT_BACKOFF_S": "0.5",
    }
    if allow:
        env["DFS_STREAM_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "watch", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_watch_an_srt_stream_in_process(
    stream_clip: Path, untrained_checkpoint: Path, tmp_path: Path
) -> None:
    source = SRTPublisher(stream_clip, loops=1)  # 8 s over SRT, then it stops
    time.sleep(0.5)
    try:
        r = watch(
            source.url,
            "--json",
            "--segment-seconds",
            "2",
            "--alert-threshold",
            "0",
            tmp=tmp_path,
            checkpoint=untrained_checkpoint,
        )
    finally:
        source.stop()
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    segments = [e for e in events if e["event"] == "segment"]
    assert [s["index"] for s in segments] == list(range(len(segments))) and len(segments) >= 3
    assert segments[0]["start_s"] == 0.0 and all(
        b["start_s"] == a["end_s"] for a, b in zip(segments, segments[1:], strict=False)
    )
    assert all(s["faces"] > 0 and 0.0 <= s["probability"] <= 1.0 for s in segments)
    assert segments[-1]["rolling"]["window_segments"] == min(5, len(segments))
    assert [e["index"] for e in events if e["event"] == "alert"] == [0]  # one episode, one alert
    assert events[-1]["event"] == "status" and events[-1]["status"] == "ended"


def test_watch_refuses_and_fails_with_one_line(untrained_checkpoint: Path, tmp_path: Path) -> None:
    r = watch("file:///etc/passwd", tmp=tmp_path, checkpoint=untrained_checkpoint)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "not allowed" in r.stderr
    r = watch("http://127.0.0.1:8080/live.ts", tmp=tmp_path, checkpoint=untrained_checkpoint, allow=False)
    assert r.returncode == 2 and "non-public address" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = watch(
        f"rtsp://admin:hunter22@127.0.0.1:{free_port()}/cam", tmp=tmp_path, checkpoint=untrained_checkpoint
    )
    assert r.returncode == 4 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "could not read the stream" in r.stderr and "hunter22" not in r.stderr and "admin" not in r.stderr
