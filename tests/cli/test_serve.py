"""`deepfakestream serve`: the whole stack from one command, and a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.services import REPO_ROOT, free_port, wait_http, wait_job


@pytest.mark.slow
def test_serve_runs_the_stack_and_stops_on_sigterm(
    face_image: Path, untrained_checkpoint: Path, tmp_path: Path, service_env: dict[str, str]
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFS_")}
    # production-like services: the same command, with DFS_* set
    env |= {k: v for k, v in service_env.items() if k.startswith("DFS_")}
    env |= {
        "PYTHONPATH": str(REPO_ROOT),
        "DFS_DATA_DIR": str(tmp_path / "data"),
        "DFS_S3_BUCKET": "dfs-serve-test",
        "DFS_BROKER_URL": service_env["DFS_BROKER_URL"].rsplit("/", 1)[0] + "/13",
    }
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 60, proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
            job = c.post("/v1/jobs", files={"file": ("g.jpg", face_image.read_bytes())}).json()
            done = wait_job(c, job["id"], timeout=180)
            assert done["status"] == "completed", done
            assert done["result"]["faces_scored"] >= 1
            assert c.get("/readyz").json()["checks"]["broker"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=90) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    assert "Ctrl-C stops it" in (tmp_path / "serve.log").read_text()
