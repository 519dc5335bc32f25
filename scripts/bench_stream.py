#!/usr/bin/env python3
"""Latency and memory of watching a live 720p30 stream on this machine (docs/streams.md).

A local ffmpeg publishes a looping 720p30 H.264 clip (camera-like bit rate, film grain) in
real time as MPEG-TS over HTTP on loopback; the in-process watcher (`shared.streams.watch`,
the same ingest, `analyze_segment` and rolling verdict as the service) scores each closed
segment. For each segment: the lag from the moment its last frame was published to the
moment its score was known (the clock's zero is when the watcher connects, so lags are slight
overestimates), and the process's RSS. The goal: every lag within two segment
lengths, sustained, with flat RSS. `detect / segment_seconds` is the share of one detector a
stream takes, so `segment_seconds / detect` estimates the concurrent streams it keeps up with.

Needs a quiet machine (check `uptime`); the load average is printed with the figures.

    .venv/bin/python scripts/bench_stream.py [--seconds 600] [--segment-seconds 4] [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.media.samples import make_clip  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="Stream length to watch.")
    parser.add_argument("--segment-seconds", type=float, default=4.0)
    parser.add_argument("--checkpoint", default=None)
    args = parser.parse_args()
    os.environ["DFS_STREAM_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    if args.checkpoint:
        os.environ["DFS_CHECKPOINT"] = args.checkpoint
    from shared.config import get_settings
    from shared.streams.watch import watch

    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="dfs-bench-stream-") as tmp:
        clip = make_clip(
            Path(tmp) / "720p30.mp4",
            "astronaut",
            seconds=20,
            width=1280,
            height=720,
            fps=30,
            bitrate="3M",
            grain=20,
        )
        loops = int(args.seconds // 20) + 1
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/live.ts"
        publisher = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", str(loops),
             "-i", str(clip), "-map", "0:v:0", "-c", "copy", "-f", "mpegts", "-listen", "1", url],
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
        rows: list[dict[str, float]] = []
        start: list[float] = []

        def report(kind: str, data: dict) -> None:  # type: ignore[type-arg]
            now = time.monotonic()
            if kind != "segment":
                return
            lag = now - (start[0] + data["end_s"])
            rows.append(
                {
                    "index": data["index"],
                    "end_s": data["end_s"],
                    "lag_s": round(lag, 2),
                    "rss_mib": round(rss_mib(), 1),
                }
            )
            print(json.dumps(rows[-1]), flush=True)

        # Models loaded first (cached), so that watch() connects at once: the publisher sends in
        # real time from that moment, which is the stream clock's zero (lags are slight overestimates).
        from shared.model.classifier import get_classifier
        from shared.model.face_detector import get_face_detector

        get_classifier(settings)
        get_face_detector(settings)
        t0 = time.monotonic()
        start.append(t0)
        try:
            watch(url, settings, report, segment_seconds=args.segment_seconds, max_duration_s=args.seconds)
        finally:
            publisher.kill()
            publisher.wait()
        wall = time.monotonic() - t0
    lags = [r["lag_s"] for r in rows]
    half = len(rows) // 2
    summary = {
        "segments": len(rows),
        "segment_seconds": args.segment_seconds,
        "watched_s": round(wall, 1),
        "lag_median_s": statistics.median(lags) if lags else None,
        "lag_max_s": max(lags) if lags else None,
        "within_two_segments": all(lag <= 2 * args.segment_seconds for lag in lags),
        "rss_first_half_max_mib": max((r["rss_mib"] for r in rows[:half]), default=None),
        "rss_second_half_max_mib": max((r["rss_mib"] for r in rows[half:]), default=None),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
