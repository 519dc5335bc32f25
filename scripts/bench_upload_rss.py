#!/usr/bin/env python3
"""Peak RSS of the API process while a large upload streams in.

Starts a real API process (uvicorn, as `deepfakestream api` runs it) against the chosen object
store, streams SIZE bytes of MP4-looking data as multipart/form-data from a generator (so the
client holds nothing either), and reads the API's peak resident memory (VmHWM) from /proc.

    .venv/bin/python scripts/bench_upload_rss.py --size-mb 1024 --store s3
    .venv/bin/python scripts/bench_upload_rss.py --size-mb 1024 --store local
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.services import REPO_ROOT, Stack, start_s3_gateway  # noqa: E402


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def api_pid(stack: Stack) -> int:
    # `python -m services.cli api` runs uvicorn in the same process
    return stack.procs["api"].pid


def body(size: int, boundary: str) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        f"Content-Type: video/mp4\r\n\r\n"
    ).encode()
    head = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    yield head
    chunk = os.urandom(1024 * 1024)
    sent = len(head)
    while sent < size:
        n = min(len(chunk), size - sent)
        yield chunk[:n]
        sent += n
    yield f"\r\n--{boundary}--\r\n".encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--store", choices=["s3", "local"], default="s3")
    args = ap.parse_args()
    size = args.size_mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="dfs-bench-") as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DFS_")}
        env |= {
            "PYTHONPATH": str(REPO_ROOT),
            "DFS_DATA_DIR": str(root / "data"),
            "DFS_MAX_UPLOAD_BYTES": str(size + 1024 * 1024),
        }
        gw = None
        if args.store == "s3":
            gw = start_s3_gateway(root / "s3")
            env |= {
                "DFS_S3_ENDPOINT": gw.endpoint,
                "DFS_S3_ACCESS_KEY": gw.access_key,
                "DFS_S3_SECRET_KEY": gw.secret_key,
            }
        from shared.config import Settings
        from shared.db.engine import upgrade_database

        upgrade_database(Settings(data_dir=root / "data").resolved_database_url)
        stack = Stack(env=env, logs=root)
        try:
            stack.start_api()
            pid = api_pid(stack)
            idle = rss_kib(pid, "VmRSS")
            boundary = "dfsbenchboundary"
            t = time.perf_counter()
            with httpx.Client(base_url=stack.api_url, timeout=600) as c:
                r = c.post(
                    "/v1/jobs",
                    content=body(size, boundary),
                    headers={"content-type": f"multipart/form-data; boundary={boundary}"},
                )
            elapsed = time.perf_counter() - t
            peak = rss_kib(pid, "VmHWM")
            print(f"status {r.status_code}; stored size_bytes={r.json().get('media', {}).get('size_bytes')}")
            print(
                f"store={args.store} upload={args.size_mb} MiB in {elapsed:.1f} s "
                f"({args.size_mb / elapsed:.0f} MiB/s); API RSS idle {idle / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB"
            )
        finally:
            stack.stop_all()
            if gw:
                gw.stop()


if __name__ == "__main__":
    main()
