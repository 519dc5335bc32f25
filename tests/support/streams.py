"""Live sources for stream tests, all on loopback: a looping generated face clip published by a
real ffmpeg as MPEG-TS over HTTP (`-listen 1`), or written as HLS and served by a loopback HTTP
server."""

from __future__ import annotations

import functools
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.services import free_port, stop_process


class Publisher:
    """ffmpeg serving `clip` (looped `loops` extra times, in real time) to the first client."""

    def __init__(self, clip: Path, loops: int, path: str = "/live.ts", port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self.proc = subprocess.Popen(
            [
                "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
                "-re", "-stream_loop", str(loops), "-i", str(clip),
                "-map", "0:v:0", "-c", "copy", "-f", "mpegts", "-listen", "1", self.url,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def stop(self) -> None:
        stop_process(self.proc, timeout=5)


class HLSServer:
    """`clip` looped `loops` extra times as an HLS playlist with 1 s segments, ended
    (#EXT-X-ENDLIST), served from a folder by a loopback HTTP server."""

    def __init__(self, clip: Path, folder: Path, loops: int = 0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                "-stream_loop", str(loops), "-i", str(clip), "-map", "0:v:0", "-c", "copy",
                "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_playlist_type", "vod",
                str(folder / "index.m3u8"),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/index.m3u8"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class LiveHLS:
    """A live HLS source: ffmpeg publishing `clip` in real time (looped `loops` extra times) as
    a growing playlist with 2 s segments, served by a loopback HTTP server. Readers may come
    and go (each starts near the live edge), which a reconnecting ingest needs."""

    def __init__(self, clip: Path, folder: Path, loops: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                "-re", "-stream_loop", str(loops), "-i", str(clip), "-map", "0:v:0", "-c", "copy",
                "-f", "hls", "-hls_time", "2", "-hls_list_size", "0", str(folder / "index.m3u8"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/index.m3u8"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.playlist = folder / "index.m3u8"

    def stop(self) -> None:
        stop_process(self.proc, timeout=5)
        self.server.shutdown()
        self.server.server_close()


class SRTPublisher:
    """ffmpeg serving `clip` (looped `loops` extra times, in real time) as MPEG-TS over SRT, in
    listener mode: the reader calls it as `srt://127.0.0.1:PORT`."""

    def __init__(self, clip: Path, loops: int) -> None:
        self.port = free_port()
        self.url = f"srt://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
                "-re", "-stream_loop", str(loops), "-i", str(clip),
                "-map", "0:v:0", "-c", "copy", "-f", "mpegts", f"{self.url}?mode=listener",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        stop_process(self.proc, timeout=5)
