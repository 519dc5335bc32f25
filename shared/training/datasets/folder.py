"""A generic layout: real/ and fake/ folders of videos or images.

Groups: the first folder level under real/ or fake/ when there is one (real/alice/1.mp4 →
"alice"), else the file name up to the first "__" (fake/alice__swap3.mp4 → "alice"), else
the file itself. Name fakes after their source that way to keep identities out of both sides
of a split."""

from __future__ import annotations

from pathlib import Path

from shared.errors import InvalidRequest
from shared.training.datasets import FAKE, REAL, Sample, kind_of, sample_id


def read_folder(root: Path) -> list[Sample]:
    samples: list[Sample] = []
    for label_name, label in (("real", REAL), ("fake", FAKE)):
        base = root / label_name
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            kind = kind_of(path)
            if not path.is_file() or kind is None:
                continue
            rel = path.relative_to(base)
            group = rel.parts[0] if len(rel.parts) > 1 else path.stem.split("__", 1)[0]
            samples.append(Sample(sample_id(root, path), path, label, group, kind))
    if not samples:
        raise InvalidRequest(f"{root} has no media under real/ or fake/")
    return samples
