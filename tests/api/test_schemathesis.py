"""schemathesis against a real API process with API keys required: every operation of the
published OpenAPI document, generated from it, for a bounded time. No server error, and every
answer conforms to the document (status code, content type, schema, headers), invalid data is
rejected and valid data accepted (tests/api/schemathesis.toml lists the statuses a schema
cannot express), a missing key is 401, a wrong method 405 with a complete `Allow`.

Not run: `use_after_free` and `ensure_resource_availability` (a plain DELETE cancels a job and
deletes its media but keeps its record readable, by design), `object_level_authorization`
(cross-tenant isolation is tested in tests/integrator/test_tenancy.py), and the stateful phase
(it would double the time).

DFS_FUZZ_SECONDS (default 120) bounds the run; DFS_FUZZ_SEED (default 1) picks the examples.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.seed import create_tenant_key
from tests.support.services import REPO_ROOT, Stack

pytestmark = pytest.mark.slow

CONFIG = REPO_ROOT / "tests" / "api" / "schemathesis.toml"


def schemathesis_binary() -> Path:
    path = Path(os.environ.get("DFS_TEST_SCHEMATHESIS") or Path(sys.executable).with_name("schemathesis"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: scripts/install.sh installs schemathesis (requirements/dev.txt)")
    return path


@pytest.fixture(scope="module")
def fuzzed_api(service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Auth on, its own bucket and broker database, no workers (jobs stay queued), rate limits
    high enough that the fuzzer reaches every operation's logic."""
    env = service_env | {
        "DFS_AUTH_ENABLED": "true",
        "DFS_S3_BUCKET": "dfs-fuzz-tests",
        "DFS_BROKER_URL": service_env["DFS_BROKER_URL"].rsplit("/", 1)[0] + "/13",
        "DFS_RATE_LIMIT_PER_MINUTE": "100000",
        "DFS_RATE_LIMIT_BURST": "10000",
    }
    s = Stack(env=env, logs=tmp_path_factory.mktemp("fuzzed-api"))
    s.start_api()
    yield s
    s.stop_all()


def test_schemathesis_finds_nothing(fuzzed_api: Stack, pg_database_url: str, tmp_path: Path) -> None:
    binary = schemathesis_binary()
    key = create_tenant_key(pg_database_url, "fuzz")
    seconds = os.environ.get("DFS_FUZZ_SECONDS", "120")
    cmd = [
        str(binary),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{fuzzed_api.api_url}/v1/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "use_after_free,ensure_resource_availability,object_level_authorization",
        "--phases",
        "examples,coverage,fuzzing",
        "--header",
        f"Authorization: Bearer {key}",
        "--workers",
        "1",
        "--max-examples",
        "10",
        "--seed",
        os.environ.get("DFS_FUZZ_SEED", "1"),
        "--request-timeout",
        "30",
        "--max-time",
        seconds,
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=float(seconds) + 240, cwd=tmp_path, check=False
    )
    out = proc.stdout + proc.stderr
    generated = re.search(r"(\d+) generated", out)
    print(f"\nschemathesis: {generated.group(0) if generated else '?'} in {seconds} s")
    assert proc.returncode == 0, out[-6000:]
    assert "Server error" not in out
    assert generated and int(generated.group(1)) > 500, out[-2000:]
    api_log = (fuzzed_api.logs / "api.log").read_text(errors="replace")
    assert "unhandled error" not in api_log, api_log[-4000:]
