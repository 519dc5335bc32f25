"""`deepfakestream watch URL`: watch a live stream in this process, with no servers, printing
one line per scored segment and one per alert (the same ingest, pipeline and rolling verdict as
the service's ingest workers; see docs/streams.md)."""

from __future__ import annotations

import json
import signal
from typing import Any

import click

from services.cli.common import friendly_errors


def render_event(kind: str, data: dict[str, Any]) -> str:
    if kind == "segment":
        p = data["probability"]
        rolling = data["rolling"]
        rp = rolling["probability"]
        score = "no face" if p is None else f"p={p:.3f}"
        verdict = "no face yet" if rp is None else f"{rp:.3f} {rolling['verdict']}"
        return (
            f"segment {data['index']:>4}  {data['start_s']:8.2f}-{data['end_s']:8.2f} s  {score:<9}"
            f"  faces={data['faces']:<3}  rolling={verdict} ({rolling['window_segments']} seg)"
        )
    if kind == "alert":
        return (
            f"ALERT at {data['at_s']:.2f} s (segment {data['index']}): rolling probability"
            f" {data['probability']:.3f} >= {data['threshold']:.3f}"
        )
    line = f"stream {data['status']}"
    if data.get("reason"):
        line += f": {data['reason']} ({data.get('segments', 0)} segments)"
    if data.get("error"):
        line += f": {data['error'].get('detail')}"
    return line


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("url")
    @click.option(
        "--json", "as_json", is_flag=True, help="One JSON object per line (segment, alert, status)."
    )
    @click.option(
        "--segment-seconds", type=float, help="Segment length (default DFS_STREAM_SEGMENT_SECONDS)."
    )
    @click.option(
        "--max-duration", type=float, default=3600.0, show_default=True, help="Stop after this many seconds."
    )
    @click.option(
        "--alert-threshold", type=float, help="Alert at this rolling probability (default: the model's)."
    )
    @friendly_errors
    def watch(
        url: str,
        as_json: bool,
        segment_seconds: float | None,
        max_duration: float,
        alert_threshold: float | None,
    ) -> None:
        """Watch a live stream URL (rtsp, rtmp, srt, HLS or MPEG-TS over http) in this process.

        Private and loopback hosts are refused unless DFS_STREAM_ALLOWED_NETWORKS lists them.
        Ctrl-C stops watching (the open segment is still scored)."""
        from shared.config import get_settings
        from shared.streams.watch import watch as run_watch

        stop = {"now": False}

        def on_signal(signum: int, frame: Any) -> None:
            stop["now"] = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

        def report(kind: str, data: dict[str, Any]) -> None:
            if as_json:
                click.echo(json.dumps({"event": kind, **data}), nl=True)
            else:
                click.echo(render_event(kind, data))

        run_watch(
            url,
            get_settings(),
            report,
            segment_seconds=segment_seconds,
            max_duration_s=max_duration,
            alert_threshold=alert_threshold,
            should_stop=lambda: stop["now"],
        )
