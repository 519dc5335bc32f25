"""The pure rules of live streams: URL refusal and redaction, the ffmpeg command line, the
rolling verdict and the alert hysteresis."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.streams.ingest import ffmpeg_args
from shared.streams.rolling import alert_step, rolling_verdict
from shared.streams.urls import StreamRefused, ingest_target, redact, scrub, validate_stream_url

LOOPBACK = ["127.0.0.0/8"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "concat:a.ts|b.ts",
        "subfile,,start,0,end,0,,:/etc/passwd",
        "data:video/mp2t;base64,AAAA",
        "pipe:0",
        "gopher://example.com/",
        "http://127.0.0.1:8080/live.ts",
        "rtsp://localhost/cam",
        "rtmp://10.0.0.5/live/key",
        "srt://[::1]:9000",
        "http://169.254.169.254/latest/meta-data/x.m3u8",
        "http://0x7f000001/live.ts",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(StreamRefused) as err:
        validate_stream_url(url, [])
    problem = err.value.to_problem()
    assert problem["status"] == 422 and problem["errors"][0]["field"] == "url"


def test_loopback_is_accepted_only_when_allow_listed() -> None:
    assert validate_stream_url(" http://127.0.0.1:8080/live.ts ", LOOPBACK) == "http://127.0.0.1:8080/live.ts"
    with pytest.raises(StreamRefused):
        validate_stream_url("http://127.0.0.1:8080/live.ts", ["10.0.0.0/8"])


def test_credentials_never_echoed() -> None:
    url = "rtsp://admin:hunter22@127.0.0.1:8554/cam?token=s3cr3t&channel=1"
    shown = redact(url)
    assert "hunter22" not in shown and "admin" not in shown and "s3cr3t" not in shown
    assert shown.startswith("rtsp://***@127.0.0.1:8554/cam") and "channel=1" in shown
    message = f"{url}: Connection refused (user admin, password hunter22)"
    assert "hunter22" not in scrub(message, url) and "s3cr3t" not in scrub(message, url)


def test_ffmpeg_is_pinned_allow_listed_and_forced(tmp_path: Path) -> None:
    hls = ingest_target("http://localhost:8099/live/index.m3u8", LOOPBACK)
    assert hls.demuxer == "hls" and hls.url == "http://127.0.0.1:8099/live/index.m3u8"
    args = ffmpeg_args(hls, 4.0, tmp_path)
    whitelist = args[args.index("-protocol_whitelist") + 1].split(",")
    assert "file" not in whitelist and "concat" not in whitelist and "http" in whitelist
    assert args[args.index("-f") + 1] == "hls" and args[args.index("-i") + 1] == hls.url
    assert "Host: localhost:8099\r\n" in args  # the name stays in the Host header
    ts = ingest_target("http://127.0.0.1:8099/feed", LOOPBACK)
    assert ts.demuxer == "mpegts"
    assert ingest_target("srt://127.0.0.1:9000", LOOPBACK).protocols == "srt,udp"
    assert ingest_target("rtsp://127.0.0.1/cam", LOOPBACK).demuxer == "rtsp"


def test_rolling_verdict_skips_segments_without_faces() -> None:
    r = rolling_verdict([0.9, None, 0.1, 0.2, None], window=2, threshold=0.5)
    assert r.window_segments == 2 and r.probability == pytest.approx(0.15) and r.verdict == "real"
    assert rolling_verdict([None, None], 3, 0.5).verdict == "no_face"
    assert rolling_verdict([0.2, 0.8, 0.9], 2, 0.5).verdict == "fake"


def test_one_alert_per_episode() -> None:
    """A rolling probability hovering around the threshold fires once; only a fall below
    threshold - hysteresis ends the episode, and the next crossing fires again."""
    fired, active = [], False
    for i, p in enumerate([0.2, 0.55, 0.48, 0.52, 0.49, 0.3, 0.6, 0.7]):
        step = alert_step(active, rolling_verdict([p], 1, 0.5), hysteresis=0.1)
        active = step.active
        if step.fire:
            fired.append(i)
    assert fired == [1, 6]
