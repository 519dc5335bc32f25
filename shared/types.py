"""Plain data passed between pipeline stages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

#: Called between stages and scoring batches; raises (`Cancelled`) to stop the work. A job's
#: is `shared.jobs.work.JobCancelCheck`; the in-process runner passes none.
CancelCheck = Callable[[], None]


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe (or the image decoder) says about the media."""

    kind: Literal["video", "image"]
    format: str
    width: int
    height: int
    duration_s: float | None = None
    fps: float | None = None
    rotation: int = 0
    codec: str | None = None
    nb_frames: int | None = None
    bit_rate: int | None = None
    size_bytes: int | None = None

    @property
    def display_width(self) -> int:
        return self.height if self.rotation % 180 else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation % 180 else self.height

    def to_public(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "duration_s": self.duration_s,
            "width": self.display_width,
            "height": self.display_height,
            "fps": self.fps,
        }


@dataclass(frozen=True)
class SegmentSpec:
    """A segment of a video: a time range, and the file holding it once split."""

    index: int
    start_s: float
    end_s: float
    path: Any = None  # pathlib.Path of the local segment file, when there is one

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


@dataclass
class Frame:
    """A decoded frame, upright (rotation applied), RGB uint8 H×W×3."""

    index: int
    time_s: float
    image: np.ndarray


@dataclass
class FaceCrop:
    frame_index: int
    face_index: int
    time_s: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels
    confidence: float
    crop: np.ndarray  # S×S×3 uint8, S = the model's input size
    #: the face cut every way the classifier asks (`shared.model.preprocessing.CropSpec` → crop);
    #: `crop` is the first of them
    views: dict[Any, np.ndarray] = field(default_factory=dict)


@dataclass
class ScoredFace:
    frame_index: int
    face_index: int
    time_s: float
    box: tuple[float, float, float, float]
    confidence: float
    probability: float
    heatmap: np.ndarray | None = None  # h×w float32 in [0, 1]
    crop: np.ndarray | None = None  # the model's input, S×S×3 uint8 (for evidence thumbnails)
    #: an ensemble's members' probabilities, in member order (`probability` is their mean)
    member_probabilities: tuple[float, ...] | None = None

    def to_public(self) -> dict[str, Any]:
        return {
            "frame_index": self.frame_index,
            "face_index": self.face_index,
            "time_s": round(self.time_s, 3),
            "box": [round(v, 1) for v in self.box],
            "detection_confidence": round(self.confidence, 4),
            "probability": round(self.probability, 6),
        }


@dataclass
class SegmentResult:
    index: int
    start_s: float
    end_s: float
    frames_sampled: int
    faces: list[ScoredFace] = field(default_factory=list)
    probability: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: How many faces were scored, when the faces themselves are not at hand (a segment read
    #: back from the database); otherwise `len(faces)`.
    faces_scored: int | None = None

    @property
    def face_count(self) -> int:
        return self.faces_scored if self.faces_scored is not None else len(self.faces)

    def to_public(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "probability": None if self.probability is None else round(self.probability, 6),
            "frames_sampled": self.frames_sampled,
            "faces": self.face_count,
        }


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    sha256: str

    def to_public(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


@dataclass(frozen=True)
class Verdict:
    verdict: Literal["fake", "real", "no_face"]
    probability: float | None
    threshold: float
    faces_scored: int
