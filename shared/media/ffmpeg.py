"""Running ffmpeg/ffprobe safely: local files only, an allow-listed demuxer, a timeout.

Untrusted media is the main attack surface of this service. Every invocation here
- reads only local files (`-protocol_whitelist file`), never a URL;
- names the demuxer chosen by content sniffing (`-f mov|matroska|avi`) instead of letting
  FFmpeg probe among its hundreds of formats;
- runs with no stdin, a minimal environment and a wall-clock timeout, after which the
  process is killed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from shared.errors import CorruptMedia, ToolFailed, public_text
from shared.media.sniff import ALLOWED_DEMUXERS


def tool_path(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolFailed(f"{name} is not installed (apt-get install ffmpeg)")
    return path


def input_args(path: Path, demuxer: str) -> list[str]:
    if demuxer not in ALLOWED_DEMUXERS:
        raise CorruptMedia(f"demuxer {demuxer!r} is not allowed")
    if not path.is_file():
        raise ToolFailed(f"{path} is not a local file")
    return ["-protocol_whitelist", "file", "-f", demuxer, "-i", f"file:{path}"]


def run_tool(args: list[str], *, timeout_s: float, what: str) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg/ffprobe; a non-zero exit becomes `CorruptMedia` with FFmpeg's last words."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CorruptMedia(f"{what} took longer than {timeout_s:.0f} s and was stopped") from exc
    if proc.returncode != 0:
        message = _last_error_line(proc.stderr)
        raise CorruptMedia(f"{what} failed: {message}")
    return proc


def _last_error_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    if not lines:
        return "no diagnostic output"
    # FFmpeg prefixes lines with the file name; keep it short and free of local paths.
    text = lines[-1]
    if ": " in text and text.startswith("file:"):
        text = text.split(": ", 1)[1]
    # no heap addresses (`[ffv1 @ 0x558b...]`) and no local paths
    return public_text(text)[:300]
