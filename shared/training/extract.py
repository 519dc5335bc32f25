"""`deepfakestream extract-faces`: run the face detector over a dataset once and cache the crops.

Training epochs then read small PNG crops instead of decoding video again. The output folder
holds `faces/<sample>/<frame>_<face>.png`, one `faces/<sample>/index.json` per sample
(written last, so its presence marks the sample done: an interrupted run resumes where it
stopped) and `index.jsonl`, the union, rebuilt at the end. Crops are made by the pipeline's
own functions (same sampling, margin and size as serving) with the detector the settings
configure (`face_detector` and its knobs, e.g. DFS_MTCNN__*), as serving does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.errors import DFSError, InvalidRequest
from shared.model.preprocessing import CROP_SQUARE, CropSpec
from shared.training.datasets import Sample

if TYPE_CHECKING:  # pragma: no cover
    from shared.config import Settings


@dataclass(frozen=True)
class FaceRecord:
    path: str  # relative to the dataset folder
    label: int
    group: str
    sample: str
    frame: int
    time_s: float
    box: list[float]
    confidence: float


@dataclass(frozen=True)
class ExtractConfig:
    """How crops are cut. Which detector finds the faces, and its knobs, come from the Settings."""

    frames_per_video: int = 16
    crop_size: int = 224
    margin: float = 0.3
    #: `shared.model.preprocessing.CROP_GEOMETRIES` (written into the trained model's card)
    geometry: str = "square"


def extraction_crop(folder: Path) -> CropSpec | None:
    """How the faces in `folder` were cut (its `extract.json`: geometry, margin, crop size);
    None when the folder does not say (made before the file existed, or by hand)."""
    meta = folder / "extract.json"
    if not meta.is_file():
        return None
    d = json.loads(meta.read_text())
    return CropSpec(
        str(d.get("geometry", CROP_SQUARE)), float(d.get("margin", 0.3)), int(d.get("crop_size", 224))
    )


def check_extraction(folder: Path, expected: CropSpec, *, what: str, check_size: bool = True) -> None:
    """Refuse faces cut otherwise than `what` (a network or checkpoint) is fed when served:
    another margin or geometry is the train/serve skew the model card exists to prevent, and
    another size makes training upsample (or blur) crops that serving cuts sharp at the input size."""
    got = extraction_crop(folder)
    if got is None:
        return
    problems = []
    if got.geometry != expected.geometry:
        problems.append(f"geometry {got.geometry} (not {expected.geometry})")
    if abs(got.margin - expected.margin) > 1e-6:
        problems.append(f"margin {got.margin:g} (not {expected.margin:g})")
    if check_size and got.size != expected.size:
        problems.append(f"{got.size} px (not {expected.size})")
    if problems:
        raise InvalidRequest(
            f"the faces in {folder.name} were cut with {', '.join(problems)} but {what} is served "
            f"{expected.geometry} crops with margin {expected.margin:g} at {expected.size} px: re-extract them "
            f"(extract-faces --size {expected.size} --margin {expected.margin:g}) or change the model's input size"
        )


def _extract_one(
    sample: Sample, out: Path, cfg: ExtractConfig, settings: Settings
) -> tuple[str, int, str | None]:
    """Worker body: returns (sample id, faces found, error or None)."""
    from PIL import Image

    from shared.model.face_detector import get_face_detector
    from shared.pipeline.faces import detect_faces
    from shared.pipeline.frames import load_image, sample_frames
    from shared.pipeline.probe import detect_type, probe

    folder = out / "faces" / sample.id
    index = folder / "index.json"
    if index.is_file():
        return sample.id, len(json.loads(index.read_text())), None
    try:
        detector = get_face_detector(settings)
        media_type = detect_type(sample.path)
        info = probe(sample.path, media_type)
        if media_type.kind == "image":
            frames = [load_image(sample.path, media_type, rotation=info.rotation)]
        else:
            frames = sample_frames(
                sample.path, cfg.frames_per_video, demuxer=media_type.demuxer, rotation=info.rotation
            )
        crops = detect_faces(
            frames, detector, margin=cfg.margin, crop_size=cfg.crop_size, geometry=cfg.geometry
        )
    except DFSError as exc:
        return sample.id, 0, f"{type(exc).__name__}: {exc.detail}"
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for c in crops:
        name = f"{c.frame_index:04d}_{c.face_index}.png"
        Image.fromarray(c.crop).save(folder / name)
        records.append(
            asdict(
                FaceRecord(
                    path=f"faces/{sample.id}/{name}",
                    label=sample.label,
                    group=sample.group,
                    sample=sample.id,
                    frame=c.frame_index,
                    time_s=round(c.time_s, 3),
                    box=[round(v, 1) for v in c.box],
                    confidence=round(c.confidence, 4),
                )
            )
        )
    tmp = index.with_suffix(".tmp")
    tmp.write_text(json.dumps(records))
    tmp.replace(index)
    return sample.id, len(records), None


def extract_faces(
    samples: Iterable[Sample],
    out: Path,
    cfg: ExtractConfig | None = None,
    *,
    settings: Settings | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Extract every sample's faces into `out` (resumable) with the detector `settings`
    configure (default: the process's settings). Returns a summary."""
    from shared.config import get_settings
    from shared.model.face_detector import detector_settings

    cfg = cfg or ExtractConfig()
    settings = settings or get_settings()
    samples = list(samples)
    out.mkdir(parents=True, exist_ok=True)
    (out / "extract.json").write_text(json.dumps(asdict(cfg) | {"detector": detector_settings(settings)}))
    errors: dict[str, str] = {}
    faces = 0
    done = 0
    report = progress or (lambda d, t: None)
    report(0, len(samples))
    if workers <= 1:
        results: Iterable[tuple[str, int, str | None]] = (
            _extract_one(s, out, cfg, settings) for s in samples
        )
        for sid, n, err in results:
            done += 1
            faces += n
            if err:
                errors[sid] = err
            report(done, len(samples))
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_limit_threads) as pool:
            futures = [pool.submit(_extract_one, s, out, cfg, settings) for s in samples]
            for fut in as_completed(futures):
                sid, n, err = fut.result()
                done += 1
                faces += n
                if err:
                    errors[sid] = err
                report(done, len(samples))
    write_index(out)
    return {"samples": len(samples), "faces": faces, "errors": errors}


def _limit_threads() -> None:
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))


def write_index(out: Path) -> int:
    lines: list[str] = []
    for index in sorted((out / "faces").glob("*/index.json")):
        lines.extend(json.dumps(r) for r in json.loads(index.read_text()))
    (out / "index.jsonl").write_text("\n".join(lines) + ("\n" if lines else ""))
    return len(lines)


def read_index(folder: Path) -> list[FaceRecord]:
    path = folder / "index.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `deepfakestream extract-faces` first")
    return [FaceRecord(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
