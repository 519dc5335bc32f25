"""The DFDC layout: folders (dfdc_train_part_N/) of .mp4 files with a metadata.json each:
{"abc.mp4": {"label": "FAKE", "split": "train", "original": "xyz.mp4"}, "xyz.mp4": {"label": "REAL", ...}}.

A fake's group is its original, so a real video and every fake made from it land on the
same side of a split."""

from __future__ import annotations

import json
from pathlib import Path

from shared.errors import InvalidRequest
from shared.training.datasets import FAKE, REAL, Sample, sample_id


def read_dfdc(root: Path) -> list[Sample]:
    metas = sorted(root.rglob("metadata.json"))
    if not metas:
        raise InvalidRequest(f"{root} has no metadata.json: not a DFDC layout")
    samples: list[Sample] = []
    for meta_path in metas:
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise InvalidRequest(f"{meta_path}: invalid JSON ({exc})") from exc
        folder = meta_path.parent
        for name, entry in sorted(meta.items()):
            label = str(entry.get("label", "")).upper()
            if label not in ("FAKE", "REAL"):
                raise InvalidRequest(f"{meta_path}: {name} has label {entry.get('label')!r} (FAKE or REAL)")
            path = folder / name
            if not path.is_file():
                continue  # metadata lists files of the full set; a partial download is fine
            original = entry.get("original") if label == "FAKE" else None
            group = f"{folder.name}/{original or name}"
            samples.append(
                Sample(sample_id(root, path), path, FAKE if label == "FAKE" else REAL, group, "video")
            )
    return samples
