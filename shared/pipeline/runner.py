"""The in-process runner: the whole pipeline in one process, no servers.

It calls the same stage functions, in the same order, as the segmenter, detector and
aggregator workers, so `deepfakestream analyze FILE` gives the numbers the service would.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.config import Settings, get_settings
from shared.errors import NotFound
from shared.model.classifier import get_classifier
from shared.model.face_detector import get_face_detector
from shared.pipeline import (
    analyze_image,
    analyze_segment,
    detect_type,
    media_result,
    model_record,
    probe_media,
    split_media,
)
from shared.provenance import read_provenance
from shared.types import MediaInfo, SegmentResult

#: progress(stage, done, total)
Progress = Callable[[str, int, int], None]


@dataclass
class Analysis:
    media: MediaInfo
    filename: str
    segments: list[SegmentResult]
    result: dict[str, Any]
    #: The upload's C2PA Content Credentials (shared/provenance): evidence beside the verdict.
    provenance: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def to_public(self, include_faces: bool = True) -> dict[str, Any]:
        media = self.media.to_public() | {"filename": self.filename, "size_bytes": self.media.size_bytes}
        doc: dict[str, Any] = {
            "media": media,
            "result": self.result,
            "provenance": self.provenance,
            "timings": self.timings,
        }
        if include_faces:
            doc["faces"] = [
                f.to_public() | {"segment_index": s.index} for s in self.segments for f in s.faces
            ]
        return doc


def analyze_file(path: Path, settings: Settings | None = None, progress: Progress | None = None) -> Analysis:
    settings = settings or get_settings()
    report = progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    if not path.is_file():
        raise NotFound(f"{path} does not exist or is not a file")

    t = time.perf_counter()
    media_type = detect_type(path)
    info = probe_media(path, media_type, settings)
    timings["probe_s"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    provenance = read_provenance(path, media_type, settings)
    timings["provenance_s"] = round(time.perf_counter() - t, 3)

    t = time.perf_counter()
    report("load models", 0, 1)
    classifier = get_classifier(settings)
    detector = get_face_detector(settings)
    timings["load_models_s"] = round(time.perf_counter() - t, 3)
    report("load models", 1, 1)

    results: list[SegmentResult] = []
    if info.kind == "image":
        report("analyze", 0, 1)
        results.append(
            analyze_image(path, media_type, settings, detector, classifier, rotation=info.rotation)
        )
        report("analyze", 1, 1)
    else:
        with tempfile.TemporaryDirectory(prefix="dfs-run-") as tmp:
            t = time.perf_counter()
            specs = split_media(path, media_type, info, Path(tmp), settings)
            timings["split_s"] = round(time.perf_counter() - t, 3)
            report("analyze", 0, len(specs))
            for i, spec in enumerate(specs):
                results.append(
                    analyze_segment(spec.path, spec, settings, detector, classifier, rotation=info.rotation)
                )
                report("analyze", i + 1, len(specs))

    for stage in ("decode_s", "detect_s", "score_s"):
        timings[stage] = round(sum(r.timings.get(stage, 0.0) for r in results), 3)
    result = media_result(results, model_record(classifier))
    timings["total_s"] = round(time.perf_counter() - t_all, 3)
    return Analysis(
        media=info,
        filename=path.name,
        segments=results,
        result=result,
        provenance=provenance,
        timings=timings,
    )
