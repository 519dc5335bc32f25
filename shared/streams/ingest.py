"""Reading a live stream into closed segments: ffmpeg with the segment muxer (stream copy),
a reconnect loop with backoff, a silence limit, a duration limit and a graceful stop.

`ingest` is a plain function: the ingest worker (`shared/streams/work.py`) and the in-process
`deepfakestream watch` both call it, and each decides what a closed segment becomes.
"""

from __future__ import annotations

import csv
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.errors import DFSError
from shared.media.ffmpeg import tool_path
from shared.pipeline.segment import segment_muxer_args
from shared.streams.urls import IngestTarget, StreamRefused, scrub

log = logging.getLogger(__name__)

SEGMENT_EXT = "mkv"
POLL_S = 0.25
#: ffmpeg gives up a read after this long without data (microseconds for -rw_timeout/-timeout).
READ_TIMEOUT_S = 10


class StreamFailed(DFSError):
    """The stream could not be read (never connected, or refused when the ingest resolved it)."""

    slug = "stream-failed"
    title = "Stream could not be read"
    status = 502
    exit_code = 4


@dataclass(frozen=True)
class ClosedSegment:
    """A segment the muxer closed: its file and its range on the stream's clock."""

    index: int
    start_s: float
    end_s: float
    path: Path


@dataclass
class IngestOutcome:
    status: str  # ended | stopped | failed
    reason: str
    segments: int
    error: str | None = None


@dataclass
class IngestLimits:
    segment_seconds: float
    max_duration_s: float
    silence_timeout_s: float
    backoff_s: float


def ffmpeg_args(target: IngestTarget, segment_seconds: float, out_dir: Path) -> list[str]:
    """The one ffmpeg command line of an ingest: allow-listed protocols, forced demuxer,
    video only, stream copy into Matroska segments, each listed in `segments.csv` once closed."""
    timeout_us = str(READ_TIMEOUT_S * 1_000_000)
    proto_opts: list[str] = []
    if target.demuxer == "rtsp":
        proto_opts = ["-rtsp_transport", "tcp", "-timeout", timeout_us]
    elif target.demuxer in ("mpegts", "hls") and target.url.startswith("http"):
        proto_opts = ["-rw_timeout", timeout_us]
    return [
        tool_path("ffmpeg"),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-protocol_whitelist",
        target.protocols,
        *proto_opts,
        *target.options,
        "-f",
        target.demuxer,
        "-i",
        target.url,
        *segment_muxer_args(
            ["-c", "copy"], segment_seconds, out_dir / "segments.csv", out_dir / f"%06d.{SEGMENT_EXT}"
        ),
    ]


class _Run:
    """One ffmpeg process and the rows of its segment list read so far."""

    def __init__(self, args: list[str], out_dir: Path) -> None:
        self.out_dir = out_dir
        self.listing = out_dir / "segments.csv"
        self.stderr_path = out_dir / "ffmpeg.log"
        self.rows_read = 0
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
            )

    def new_rows(self) -> list[tuple[Path, float, float]]:
        if not self.listing.is_file():
            return []
        with open(self.listing, newline="") as fh:
            rows = [r for r in csv.reader(fh) if len(r) >= 3]
        # The last line may be half written: only rows followed by a newline count.
        text = self.listing.read_text()
        if text and not text.endswith("\n"):
            rows = rows[:-1]
        fresh = rows[self.rows_read :]
        self.rows_read += len(fresh)
        out = []
        for name, start, end in ((r[0], float(r[1]), float(r[2])) for r in fresh):
            path = self.out_dir / name
            # A stop before any video arrived leaves an empty segment (start == end): not a segment.
            if path.is_file() and path.stat().st_size > 0 and end > start:
                out.append((path, start, end))
            else:
                path.unlink(missing_ok=True)
        return out

    def stop(self, grace_s: float = 8.0) -> None:
        """SIGINT: ffmpeg closes the open segment and lists it; killed if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def last_error(self) -> str:
        try:
            lines = [ln.strip() for ln in self.stderr_path.read_text("utf-8", "replace").splitlines()]
        except OSError:
            return "no diagnostic output"
        lines = [ln for ln in lines if ln]
        return lines[-1][:300] if lines else "the connection closed without data"


def ingest(
    url: str,
    resolve: Callable[[], IngestTarget],
    limits: IngestLimits,
    work_dir: Path,
    on_segment: Callable[[ClosedSegment], None],
    *,
    should_stop: Callable[[], bool] = lambda: False,
    heartbeat: Callable[[], None] = lambda: None,
    start_index: int = 0,
    start_s: float = 0.0,
) -> IngestOutcome:
    """Read `url` until it ends, is stopped, reaches `max_duration_s` or stays silent for
    `silence_timeout_s`. `resolve` vets the address before every (re)connection. Each closed
    segment is passed to `on_segment` (which owns the file afterwards) in order."""
    index, clock = start_index, start_s
    produced = 0
    backoff = limits.backoff_s
    last_progress = time.monotonic()
    attempt = 0
    last_error = "no data"
    while True:
        attempt += 1
        run_dir = work_dir / f"run{attempt:04d}"
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            target = resolve()
        except StreamRefused as exc:
            return IngestOutcome("failed", "refused", produced, exc.detail)
        run = _Run(ffmpeg_args(target, limits.segment_seconds, run_dir), run_dir)
        run_base, run_segments = clock, 0
        stopped_by: str | None = None
        while True:
            finished = run.proc.poll() is not None
            for path, start, end in run.new_rows():
                seg = ClosedSegment(index, round(run_base + start, 3), round(run_base + end, 3), path)
                on_segment(seg)
                index, clock, run_segments, produced = index + 1, seg.end_s, run_segments + 1, produced + 1
                last_progress = time.monotonic()
                backoff = limits.backoff_s
            if finished:
                break
            heartbeat()
            if stopped_by is None and should_stop():
                stopped_by = "stopped"
                run.stop()
                continue
            if stopped_by is None and clock >= limits.max_duration_s:
                stopped_by = "max_duration"
                run.stop()
                continue
            if (
                stopped_by is None
                and time.monotonic() - last_progress > limits.silence_timeout_s + READ_TIMEOUT_S
            ):
                stopped_by = "silence"
                run.stop()
                continue
            time.sleep(POLL_S)
        rc = run.proc.returncode
        if stopped_by == "stopped":
            return IngestOutcome("stopped", "stop requested", produced)
        if stopped_by == "max_duration":
            return IngestOutcome("ended", "max_duration_s reached", produced)
        if rc == 0 and run_segments > 0 and stopped_by is None and target.demuxer == "hls":
            # An HLS playlist says when it is over (#EXT-X-ENDLIST). Other protocols cannot tell
            # a source that stopped from a dropped connection: they are retried until silent.
            return IngestOutcome("ended", "the playlist ended", produced)
        if rc != 0:
            last_error = scrub(run.last_error(), url)
        else:
            last_error = "the connection closed" if run_segments else "the source sent no video"
        log.info("stream read ended (rc %s): %s; reconnecting", rc, last_error)
        # Reconnect with backoff, until nothing arrived for the silence limit.
        deadline = last_progress + limits.silence_timeout_s
        resume_at = min(time.monotonic() + backoff, deadline)
        while time.monotonic() < resume_at:
            heartbeat()
            if should_stop():
                return IngestOutcome("stopped", "stop requested", produced)
            time.sleep(max(0.0, min(0.5, resume_at - time.monotonic())))
        backoff = min(backoff * 2, limits.backoff_s * 10)
        if time.monotonic() >= deadline:
            if produced:
                return IngestOutcome("ended", f"the source went silent ({last_error})", produced)
            return IngestOutcome("failed", "no video", produced, f"could not read the stream: {last_error}")
