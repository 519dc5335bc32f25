"""The ingest loop against real ffmpeg sources on loopback: a dropped connection is resumed
with the stream's clock and numbering continuing, a source that never answers fails after the
silence limit (with its credentials scrubbed from the message), a stop closes the open segment."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from shared.streams.ingest import ClosedSegment, IngestLimits, ingest
from shared.streams.urls import ingest_target
from tests.support.services import free_port
from tests.support.streams import Publisher

LOOPBACK = ["127.0.0.0/8"]


def run(url: str, limits: IngestLimits, work: Path, **kwargs: object) -> tuple[object, list[ClosedSegment]]:
    segments: list[ClosedSegment] = []
    outcome = ingest(url, lambda: ingest_target(url, LOOPBACK), limits, work, segments.append, **kwargs)  # type: ignore[arg-type]
    return outcome, segments


def test_a_dropped_source_is_reconnected_and_the_clock_continues(stream_clip: Path, tmp_path: Path) -> None:
    first = Publisher(stream_clip, loops=5)
    second: list[Publisher] = []

    def drop_then_come_back() -> None:
        time.sleep(5)
        first.proc.kill()  # the connection drops mid-stream
        first.proc.wait()
        time.sleep(1.5)
        second.append(Publisher(stream_clip, loops=0, port=first.port))  # 4 s more, then it stops

    threading.Thread(target=drop_then_come_back, daemon=True).start()
    try:
        outcome, segs = run(first.url, IngestLimits(2, 120, 4, 0.5), tmp_path)
    finally:
        first.stop()
        for p in second:
            p.stop()
    assert outcome.status == "ended" and "went silent" in outcome.reason  # type: ignore[attr-defined]
    assert [s.index for s in segs] == list(range(len(segs)))
    assert segs[0].start_s == 0.0
    for a, b in zip(segs, segs[1:], strict=False):
        assert b.start_s == a.end_s and b.end_s > b.start_s
    assert segs[-1].end_s > 7.0  # both connections' video: about 5 s + 4 s
    assert all(s.path.name.endswith(".mkv") for s in segs)


def test_a_source_that_never_answers_fails_after_the_silence_limit(tmp_path: Path) -> None:
    url = f"http://viewer:hunter22@127.0.0.1:{free_port()}/live.ts"
    started = time.monotonic()
    outcome, segs = run(url, IngestLimits(2, 120, 3, 0.5), tmp_path)
    took = time.monotonic() - started
    assert outcome.status == "failed" and not segs  # type: ignore[attr-defined]
    assert 3 <= took < 20
    assert "Connection refused" in outcome.error and "hunter22" not in outcome.error  # type: ignore[attr-defined]
    assert len(list(tmp_path.glob("run*"))) >= 3  # it retried with backoff, not once


def test_stop_closes_the_open_segment(stream_clip: Path, tmp_path: Path) -> None:
    source = Publisher(stream_clip, loops=10)
    asked = threading.Event()
    threading.Timer(8.0, asked.set).start()
    try:
        outcome, segs = run(source.url, IngestLimits(2, 120, 10, 0.5), tmp_path, should_stop=asked.is_set)
    finally:
        source.stop()
    assert outcome.status == "stopped"  # type: ignore[attr-defined]
    assert 2 <= len(segs) <= 5 and segs[-1].end_s >= 4.0 and segs[-1].end_s < 12
    assert all(s.end_s > s.start_s for s in segs)  # the segment open at the stop is closed and kept
    assert all(s.path.stat().st_size > 0 for s in segs)


def test_max_duration_ends_the_stream(stream_clip: Path, tmp_path: Path) -> None:
    source = Publisher(stream_clip, loops=10)
    try:
        outcome, segs = run(source.url, IngestLimits(2, 4.0, 10, 0.5), tmp_path)
    finally:
        source.stop()
    assert outcome.status == "ended" and "max_duration_s" in outcome.reason  # type: ignore[attr-defined]
    assert 4.0 <= segs[-1].end_s < 8.0 and [s.index for s in segs] == list(range(len(segs)))
