"""The bundled-model recipe (issue 9): identity-disjoint four-way splits, swap donors from other
people, and a tiny training run that lifts validation ROC-AUC on an unseen person above chance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shared.training.bundled import (
    CorpusFace,
    PairSet,
    TrainSettings,
    load_corpus,
    pair_scores,
    plan_pairs,
    split_identities,
    train_pairs,
)


def test_splits_are_identity_disjoint_stable_and_cover_everyone() -> None:
    ids = [f"person-{i}" for i in range(60)] * 3  # several photos per person
    split = split_identities(ids, seed=0)
    assert set(split) == set(ids)
    assert set(split.values()) == {"train", "validation", "calibration", "test"}
    assert split == split_identities(list(reversed(ids)), seed=0), "a function of the labels, not their order"
    assert split != split_identities(ids, seed=1)
    counts = {k: sum(v == k for v in split.values()) for k in ("train", "validation", "calibration", "test")}
    assert counts["train"] > counts["test"] > 0
    # adding people does not move anyone already placed out of the held-out splits
    more = split_identities([*ids, *[f"new-{i}" for i in range(5)]], seed=0)
    assert sum(more[g] != split[g] for g in split) <= 10


def test_corpus_reader_keeps_labels_and_skips_tiny_faces(tmp_path: Path) -> None:
    manifest = {
        "version": 1,
        "images": [
            {"path": "a.jpg", "source": "s", "licence": "MIT", "faces": [
                {"box": [0, 0, 100, 120], "identity": "alice", "usable": True},
                {"box": [0, 0, 20, 20], "identity": "tiny", "usable": False},
            ]},
            {"path": "b.jpg", "source": "s", "licence": "MIT", "faces": [{"box": [5, 5, 60, 70], "identity": "alice"}]},
        ],
    }  # fmt: skip
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    faces = load_corpus(tmp_path, min_side=32)
    assert [(f.identity, f.key, f.usable) for f in faces] == [
        ("alice", "a.jpg#0", True),
        ("alice", "b.jpg#0", False),
    ]


def test_swap_donors_are_other_people() -> None:
    faces = [
        CorpusFace(f"{p}{i}.jpg", 0, p, (0, 0, 80, 80), "s", "MIT", True) for p in "abc" for i in range(2)
    ]
    jobs = plan_pairs(faces, ("sbi", "swap"), views=20, seed=0)
    kinds = [j.kind for j in jobs]
    assert 0.3 < kinds.count("swap") / len(kinds) < 0.7
    assert all(j.donor is not None and j.donor.identity != j.face.identity for j in jobs if j.kind == "swap")
    assert all(j.kind == "sbi" and j.donor is None for j in plan_pairs(faces, ("sbi",), 5, 0))


def _pairs(name: str, views: int, seed: int, size: int) -> PairSet:
    """Self-blend pairs of one offline photo through the video chain."""
    from shared.config import Settings
    from shared.media.samples import load_subject
    from shared.model.face_detector import build_face_detector
    from shared.training.forgery import self_blend_frame
    from shared.training.landmarks import FaceMesh
    from shared.training.render import render_pair

    base = Settings()
    det = build_face_detector(
        base.model_copy(update={"mtcnn": base.mtcnn.model_copy(update={"detect_scale": 1.0})}), "cpu"
    )
    img = load_subject(name)  # type: ignore[arg-type]
    box = det.predict([img])[0][0].box
    pts = FaceMesh().landmarks(img, box)
    assert pts is not None
    rng = np.random.default_rng(seed)
    reals, fakes = [], []
    for _ in range(views):
        fake, _ = self_blend_frame(img, pts, rng)
        r, f = render_pair(
            img,
            fake,
            box,
            rng,
            margin=0.3,
            crop_size=size,
            crf=int(rng.integers(18, 28)),
            frames=2,
            keep=(1,),
        )
        reals += r
        fakes += f
    n = len(reals)
    return PairSet(np.stack(reals), np.stack(fakes), np.array([name] * n), np.array(["sbi"] * n))


@pytest.mark.slow
def test_tiny_training_lifts_validation_auc_on_an_unseen_person() -> None:
    """A benchmark, not a timing assertion: 60 steps on one person's self-blends, validated on
    another person. The ImageNet-initialised network starts near chance on the unseen person."""
    import torch

    from shared.training.bundled import build_model
    from shared.training.metrics import roc_auc

    size = 128
    train = _pairs("astronaut", 24, 0, size)
    val = _pairs("grace_hopper", 12, 1, size)
    settings = TrainSettings(
        input_size=size,
        batch_pairs=6,
        lr=1e-3,
        warmup_steps=5,
        max_steps=60,
        eval_every=20,
        threads=1,
        max_minutes=60,
    )
    torch.manual_seed(0)
    untrained, _ = build_model(settings)
    y0, p0, _ = pair_scores(untrained, val)
    model, cfg, history = train_pairs(train, val, settings, log=lambda m: None)
    y1, p1, _ = pair_scores(model, val)
    before, after = roc_auc(y0, p0), roc_auc(y1, p1)
    assert before is not None and after is not None
    assert after > 0.7 and after > before + 0.1, f"validation AUC {before:.3f} -> {after:.3f} ({history})"
    assert cfg.init and "sha256:" in cfg.init
