"""`deepfakestream submit FILE --server URL --wait` against a running server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integrator.conftest import TenantKeys
from tests.support.services import REPO_ROOT, Stack

pytestmark = pytest.mark.slow


def run_cli(stack: Stack, key: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in stack.env.items() if not k.startswith("DFS_")
    }  # a client machine: no server settings
    if key:
        env["DFS_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_submit_and_wait_prints_the_result(auth_stack: Stack, tenant_a: TenantKeys, face_image: Path) -> None:
    proc = run_cli(
        auth_stack,
        tenant_a.key,
        "submit",
        str(face_image),
        "--server",
        auth_stack.api_url,
        "--wait",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)
    assert job["status"] == "completed" and job["result"]["verdict"] in ("fake", "real")

    proc = run_cli(auth_stack, tenant_a.key, "job", "get", job["id"], "--server", auth_stack.api_url)
    assert proc.returncode == 0 and proc.stdout.startswith(f"{job['id']} completed: ")


def test_a_bad_key_is_one_readable_line_and_a_non_zero_exit(auth_stack: Stack, face_image: Path) -> None:
    proc = run_cli(auth_stack, "dfs_wrong", "submit", str(face_image), "--server", auth_stack.api_url)
    assert proc.returncode == 11  # Unauthorized's exit code
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("error: unauthorized: ")
