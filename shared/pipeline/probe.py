"""Stage 1: probe. What is this media? (duration, size, fps, rotation, codec)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from shared.media.ffmpeg import input_args, run_tool, tool_path
from shared.media.pillow import image_error, pillow_errors
from shared.media.sniff import SNIFF_BYTES, MediaType, sniff
from shared.types import MediaInfo


def detect_type(path: Path) -> MediaType:
    with open(path, "rb") as fh:
        return sniff(fh.read(SNIFF_BYTES))


def probe(
    path: Path,
    media_type: MediaType | None = None,
    *,
    timeout_s: float = 60.0,
    max_duration_s: float | None = None,
    max_pixels: int | None = None,
) -> MediaInfo:
    """Probe a local media file. Videos go through ffprobe, images through Pillow."""
    media_type = media_type or detect_type(path)
    if media_type.kind == "image":
        info = probe_image(path, media_type)
    else:
        args = [
            tool_path("ffprobe"),
            "-hide_banner",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            *input_args(path, media_type.demuxer),
        ]
        proc = run_tool(args, timeout_s=timeout_s, what="ffprobe")
        info = parse_ffprobe(json.loads(proc.stdout or b"{}"), size_bytes=path.stat().st_size)
    if max_duration_s is not None and info.duration_s is not None and info.duration_s > max_duration_s:
        raise MediaTooLarge(f"media lasts {info.duration_s:.0f} s; the limit is {max_duration_s:.0f} s")
    if max_pixels is not None and info.width * info.height > max_pixels:
        raise MediaTooLarge(f"frames of {info.width}x{info.height} exceed the limit of {max_pixels} pixels")
    return info


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "0"):
        return None
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            return float(num) / float(den) if float(den) else None
        return float(text)
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if v == v and v >= 0 else None  # drop NaN and negatives


def _rotation(stream: dict[str, Any]) -> int:
    """Clockwise display rotation in degrees, normalised to 0/90/180/270."""
    raw: float | None = None
    for sd in stream.get("side_data_list", []) or []:
        if "rotation" in sd:
            try:
                raw = float(sd["rotation"])
            except (TypeError, ValueError):
                raw = None
            break
    if raw is None:
        tag = (stream.get("tags") or {}).get("rotate")
        if tag is not None:
            try:
                # the legacy tag is clockwise; the display matrix is counter-clockwise
                raw = -float(tag)
            except ValueError:
                raw = None
    if raw is None:
        return 0
    # display-matrix rotation is counter-clockwise: -90 means "rotate 90° clockwise to display".
    return int(round(-raw / 90.0)) % 4 * 90


def parse_ffprobe(data: dict[str, Any], size_bytes: int | None = None) -> MediaInfo:
    """ffprobe's JSON → MediaInfo. Refuses files with no decodable video stream."""
    streams = data.get("streams") or []
    video = [s for s in streams if s.get("codec_type") == "video" and not _is_cover_art(s)]
    if not video:
        if streams:
            raise UnsupportedMedia("the file has no video stream (audio-only or data-only media)")
        raise CorruptMedia("ffprobe found no streams: the file is damaged or not media")
    v = video[0]
    width, height = int(v.get("width") or 0), int(v.get("height") or 0)
    if width <= 0 or height <= 0:
        raise CorruptMedia("the video stream has no frame size: the file is damaged")
    fmt = data.get("format") or {}
    duration = _float(v.get("duration")) or _float(fmt.get("duration"))
    fps = _rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate"))
    if fps is not None and not 0 < fps <= 1000:
        fps = None
    nb_frames = v.get("nb_frames")
    return MediaInfo(
        kind="video",
        format=str(fmt.get("format_name", "")),
        width=width,
        height=height,
        duration_s=duration,
        fps=round(fps, 3) if fps else None,
        rotation=_rotation(v),
        codec=v.get("codec_name"),
        nb_frames=int(nb_frames) if str(nb_frames or "").isdigit() else None,
        bit_rate=int(fmt["bit_rate"]) if str(fmt.get("bit_rate", "")).isdigit() else None,
        size_bytes=size_bytes
        if size_bytes is not None
        else (int(fmt["size"]) if str(fmt.get("size", "")).isdigit() else None),
    )


def _is_cover_art(stream: dict[str, Any]) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


def probe_image(path: Path, media_type: MediaType) -> MediaInfo:
    from PIL import Image

    try:
        with Image.open(path, formats=[media_type.demuxer]) as img:
            width, height = img.size
            rotation = _exif_rotation(img)
    except pillow_errors() as exc:
        raise image_error(exc) from exc
    return MediaInfo(
        kind="image",
        format=media_type.demuxer.lower(),
        width=width,
        height=height,
        rotation=rotation,
        size_bytes=path.stat().st_size,
    )


def _exif_rotation(img: Any) -> int:
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:
        return 0
    return {3: 180, 6: 90, 8: 270}.get(int(orientation), 0)
