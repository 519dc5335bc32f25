"""The attack corpus (tests/support/hostile_media.py) through the API and through the CLI.

Every kind must end in one of the outcomes it names (a problem type or exit-code class, or a
verdict), never `/problems/internal` or exit 1; no answer, job error or CLI line may show an
internal path or a heap address; no file may make anything contact a loopback listener; and a
refused upload leaves nothing in object storage.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from minio import Minio

from tests.support.hostile_media import EXIT_CODES, KINDS, OK, Context, Kind, generate
from tests.support.services import S3Gateway, Stack

pytestmark = pytest.mark.slow

#: Text a client must never see: local paths, heap addresses, worker temp folders.
LEAKS = re.compile(
    r"(?<![\w/])/(?:tmp|var|home|root|usr|etc|opt|srv|proc|work)/|0x[0-9a-fA-F]{6,}|dfs-(?:det|seg)-|Traceback"
)
EXIT_OUTCOME = {code: outcome for outcome, code in EXIT_CODES.items()}


@dataclass
class Listener:
    """A loopback TCP listener that counts every connection made to it."""

    sock: socket.socket
    connections: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(1024))
                except OSError:
                    self.connections.append(b"")


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    probe = Listener(sock)
    threading.Thread(target=probe.serve, daemon=True).start()
    yield probe
    sock.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, listener: Listener) -> dict[str, Path | str]:
    return generate(Context(tmp_path_factory.mktemp("hostile"), listener.url))


def test_the_corpus_has_at_least_40_kinds(corpus: dict[str, Path | str]) -> None:
    made = [name for name, path in corpus.items() if isinstance(path, Path)]
    assert len(made) >= 40, {n: r for n, r in corpus.items() if not isinstance(r, Path)}


# --- through the API ---------------------------------------------------------------------


@dataclass
class ApiOutcome:
    outcome: str
    texts: list[str]
    stored_after_refusal: list[str] = field(default_factory=list)


def _uploads(s3: Minio, bucket: str) -> set[str]:
    if not s3.bucket_exists(bucket):
        return set()
    return {o.object_name for o in s3.list_objects(bucket, prefix="uploads/", recursive=True)}


@pytest.fixture(scope="module")
def api_outcomes(
    stack: Stack, corpus: dict[str, Path | str], s3_gateway: S3Gateway, service_env: dict[str, str]
) -> dict[str, ApiOutcome]:
    """Submit every kind, then wait for every accepted job (the pipeline overlaps them)."""
    s3 = Minio(s3_gateway.endpoint, s3_gateway.access_key, s3_gateway.secret_key, secure=False)
    bucket = service_env["DFS_S3_BUCKET"]
    results: dict[str, ApiOutcome] = {}
    pending: dict[str, str] = {}
    with httpx.Client(base_url=stack.api_url, timeout=120) as api:
        for name, path in corpus.items():
            if not isinstance(path, Path):
                continue
            before = _uploads(s3, bucket)
            r = api.post("/v1/jobs", files={"file": (path.name.split("--", 1)[1], path.read_bytes())})
            if r.status_code == 202:
                pending[name] = r.json()["id"]
                continue
            body = r.json()
            leftovers = sorted(_uploads(s3, bucket) - before)
            results[name] = ApiOutcome(body["type"].rsplit("/", 1)[-1], [r.text], leftovers)
        deadline = time.time() + 600
        while pending and time.time() < deadline:
            for name, job_id in list(pending.items()):
                job = api.get(f"/v1/jobs/{job_id}").json()
                if job["status"] == "completed":
                    results[name] = ApiOutcome(OK, [str(job)])
                elif job["status"] in ("failed", "cancelled"):
                    error = job.get("error") or {}
                    results[name] = ApiOutcome(str(error.get("type", "?")).rsplit("/", 1)[-1], [str(job)])
                else:
                    continue
                del pending[name]
            time.sleep(0.5)
    assert not pending, f"jobs that never ended: {pending}\n{stack.log_tail()}"
    return results


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_through_the_api(
    kind: Kind, corpus: dict[str, Path | str], api_outcomes: dict[str, ApiOutcome]
) -> None:
    if not isinstance(corpus[kind.name], Path):
        pytest.skip(str(corpus[kind.name]))
    got = api_outcomes[kind.name]
    assert got.outcome in kind.outcomes, (kind.name, got.outcome, got.texts)
    for text in got.texts:
        assert not LEAKS.search(text), (kind.name, text)
    assert got.stored_after_refusal == [], "a refused upload left objects behind"


# --- through the CLI (the real command, in this process: the model loads once) -----------


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory, untrained_checkpoint: Path) -> Iterator[None]:
    import os

    from shared.config import get_settings

    saved = {k: v for k, v in os.environ.items() if k.startswith("DFS_")}
    for key in saved:
        del os.environ[key]
    os.environ["DFS_DATA_DIR"] = str(tmp_path_factory.mktemp("cli-data"))
    os.environ["DFS_CHECKPOINT"] = str(untrained_checkpoint)
    get_settings.cache_clear()
    yield
    for key in [k for k in os.environ if k.startswith("DFS_")]:
        del os.environ[key]
    os.environ.update(saved)
    get_settings.cache_clear()


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_through_the_cli(kind: Kind, corpus: dict[str, Path | str], cli_env: None) -> None:
    from click.testing import CliRunner

    from services.cli.main import cli

    path = corpus[kind.name]
    if not isinstance(path, Path):
        pytest.skip(str(path))
    result = CliRunner().invoke(cli, ["analyze", str(path), "--json"], catch_exceptions=False)
    outcome = EXIT_OUTCOME.get(result.exit_code, f"exit {result.exit_code}")
    assert outcome in kind.outcomes, (kind.name, result.exit_code, result.stderr[-500:])
    if result.exit_code:
        lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1, result.stderr
        assert not LEAKS.search(lines[0].replace(str(path), "FILE")), lines[0]


def test_the_real_cli_process_on_a_thin_video_and_a_png_bomb(
    corpus: dict[str, Path | str], cli_env: None
) -> None:
    """The installed command, as a user runs it (issue 11's examples: exit 0 and exit 5)."""
    import os
    import subprocess
    import sys

    for name, code in (("video-640x40", 0), ("png-100000x100000-header", 5)):
        path = corpus[name]
        if not isinstance(path, Path):
            pytest.skip(str(path))
        proc = subprocess.run(
            [sys.executable, "-m", "services.cli", "analyze", str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ),
            check=False,
        )
        assert proc.returncode == code, proc.stderr[-800:]


def test_nothing_contacted_the_loopback_listener(
    listener: Listener, api_outcomes: dict[str, ApiOutcome]
) -> None:
    """Runs after the API and CLI passes above (the playlists and data references named it)."""
    assert listener.connections == []


def test_report_outcomes(api_outcomes: dict[str, ApiOutcome], corpus: dict[str, Path | str]) -> None:
    """With ATTACK_CORPUS_REPORT=FILE, write each kind's API outcome as JSON (docs/reliability.md)."""
    import json
    import os

    target = os.environ.get("ATTACK_CORPUS_REPORT")
    if not target:
        pytest.skip("set ATTACK_CORPUS_REPORT=FILE to write the outcomes")
    Path(target).write_text(
        json.dumps({name: api_outcomes[name].outcome for name in corpus if name in api_outcomes}, indent=1)
    )
