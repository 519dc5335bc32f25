"""Dataset readers. Each turns a layout on disk into `Sample`s: one media file, its label and
the group it belongs to (identity or original video), which is what splits are made by."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shared.media.sniff import BY_EXT

REAL, FAKE = 0, 1
VIDEO_EXTS = {f".{t.ext}" for t in BY_EXT.values() if t.kind == "video"} | {".m4v", ".mpeg"}
IMAGE_EXTS = {f".{t.ext}" for t in BY_EXT.values() if t.kind == "image"} | {".jpeg"}


@dataclass(frozen=True)
class Sample:
    id: str  # stable, filesystem-safe
    path: Path
    label: int  # REAL (0) or FAKE (1)
    group: str  # identity / original video: never split across train and validation
    kind: Literal["video", "image"]


def kind_of(path: Path) -> Literal["video", "image"] | None:
    ext = path.suffix.lower()
    if ext in VIDEO_EXTS:
        return "video"
    if ext in IMAGE_EXTS:
        return "image"
    return None


def sample_id(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in rel)
