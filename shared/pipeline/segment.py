"""Stage 2: split a video into segments with ffmpeg.

Two ways to cut, chosen by `segment_mode` (see docs/benchmarks.md for the numbers):

- `copy`: stream copy with the segment muxer. Costs almost nothing (no decode, no encode) and
  keeps the exact compressed pixels the detector judges, but can only cut at keyframes, so a
  segment runs from the first keyframe at or after its nominal start to the next such cut.
- `reencode`: forces a keyframe every `segment_seconds` and re-encodes (x264, CRF 12, visually
  lossless). Even segments whatever the source's GOP, at the price of a full decode + encode.
- `auto`: `copy`, unless the keyframes are so sparse that some segment would be more than
  twice as long as asked, in which case the split is redone with `reencode` so the work still
  spreads over several detectors.

The default is `copy`: on this design's 2-core reference machine a re-encode of 10 s of 720p
costs 3.8 s, more than the whole analysis (2.3 s), and re-encoding rewrites the very
high-frequency compression traces the SRM filters look at. Long segments are sampled as
densely as short ones (`frames_for`), so no evidence is lost, only timeline granularity.

Segments are Matroska files: Matroska takes every codec a stream copy can carry (MP4 refuses
VP8, for one), and audio, subtitles and data streams are dropped.
"""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path
from typing import Literal

from shared.errors import CorruptMedia
from shared.media.ffmpeg import input_args, run_tool, tool_path
from shared.media.sniff import MediaType
from shared.types import MediaInfo, SegmentSpec

SEGMENT_EXT = "mkv"
SEGMENT_DEMUXER = "matroska"
#: auto mode re-encodes when a copied segment would exceed this multiple of segment_seconds.
AUTO_MAX_STRETCH = 2.0


def split(
    path: Path,
    media_type: MediaType,
    info: MediaInfo,
    out_dir: Path,
    *,
    segment_seconds: float,
    mode: Literal["auto", "copy", "reencode"] = "copy",
    timeout_s: float = 300.0,
) -> list[SegmentSpec]:
    """Split `path` into segment files in `out_dir`; returns them in order, with their time ranges."""
    if info.kind != "video":
        raise ValueError("only videos are split")
    if mode in ("copy", "auto"):
        segments = _run_split(path, media_type, info, out_dir, segment_seconds, "copy", timeout_s)
        if mode == "copy" or not _too_sparse(segments, info, segment_seconds):
            return segments
        shutil.rmtree(out_dir, ignore_errors=True)
    return _run_split(path, media_type, info, out_dir, segment_seconds, "reencode", timeout_s)


def _too_sparse(segments: list[SegmentSpec], info: MediaInfo, segment_seconds: float) -> bool:
    duration = info.duration_s or sum(s.duration_s for s in segments)
    if duration <= segment_seconds * AUTO_MAX_STRETCH:
        return False
    return any(s.duration_s > segment_seconds * AUTO_MAX_STRETCH for s in segments)


def _run_split(
    path: Path,
    media_type: MediaType,
    info: MediaInfo,
    out_dir: Path,
    segment_seconds: float,
    mode: Literal["copy", "reencode"],
    timeout_s: float,
) -> list[SegmentSpec]:
    out_dir.mkdir(parents=True, exist_ok=True)
    listing = out_dir / "segments.csv"
    if mode == "copy":
        codec = ["-c", "copy"]
    else:
        codec = [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
            "-force_key_frames",
            f"expr:gte(t,n_forced*{segment_seconds:g})",
        ]
    inp = input_args(path, media_type.demuxer)
    if mode == "reencode":
        # frames stay as stored; the detector applies the probed rotation in both modes
        inp = ["-noautorotate", *inp]
    args = [
        tool_path("ffmpeg"),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        *inp,
        *segment_muxer_args(codec, segment_seconds, listing, out_dir / f"%05d.{SEGMENT_EXT}"),
    ]
    run_tool(args, timeout_s=timeout_s, what=f"ffmpeg split ({mode})")
    return read_segment_list(listing, out_dir, info.duration_s)


def segment_muxer_args(codec: list[str], segment_seconds: float, listing: Path, pattern: Path) -> list[str]:
    """ffmpeg output arguments that cut the first video stream into closed Matroska segments of
    `segment_seconds`, listed in a CSV (file,start,end) at `listing`: the one segment layout
    file jobs and live streams share."""
    return [
        "-map",
        "0:v:0",
        *codec,
        "-an",
        "-sn",
        "-dn",
        "-f",
        "segment",
        "-segment_time",
        f"{segment_seconds:g}",
        "-segment_format",
        "matroska",
        "-reset_timestamps",
        "1",
        "-segment_list",
        str(listing),
        "-segment_list_type",
        "csv",
        str(pattern),
    ]


def read_segment_list(listing: Path, out_dir: Path, duration_s: float | None) -> list[SegmentSpec]:
    """Parse the segment muxer's CSV (file,start,end) into SegmentSpecs.

    Times are clamped into [0, duration]: with B-frames the muxer reports packet times that
    run a frame or two past the container's duration.
    """
    if not listing.is_file():
        raise CorruptMedia("ffmpeg produced no segments: the video has no decodable frames")
    specs: list[SegmentSpec] = []
    with open(listing, newline="") as fh:
        for row in csv.reader(fh):
            if len(row) < 3:
                continue
            name, start, end = row[0], float(row[1]), float(row[2])
            file = out_dir / name
            if not file.is_file() or file.stat().st_size == 0:
                continue
            specs.append(SegmentSpec(index=len(specs), start_s=start, end_s=end, path=file))
    if not specs:
        raise CorruptMedia("ffmpeg produced no segments: the video has no decodable frames")
    limit = duration_s if duration_s and math.isfinite(duration_s) else specs[-1].end_s
    clamped: list[SegmentSpec] = []
    for s in specs:
        start = min(max(0.0, s.start_s), limit)
        end = min(max(start, s.end_s), limit)
        clamped.append(SegmentSpec(index=s.index, start_s=round(start, 3), end_s=round(end, 3), path=s.path))
    return clamped


def frames_for(segment: SegmentSpec, segment_seconds: float, frames_per_segment: int) -> int:
    """How many frames to sample: `frames_per_segment` per nominal segment length, so a long
    segment (sparse keyframes) is sampled as densely as a normal one."""
    if segment.duration_s <= 0:
        return 1
    stretch = segment.duration_s / segment_seconds
    return max(1, min(frames_per_segment * 8, round(frames_per_segment * stretch)))
