"""The training loop learns: on a tiny generated dataset the loss falls, validation F1 rises
above what a constant answer gets, checkpoints are model cards, and a run resumes."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.model.checkpoint import load_checkpoint, read_meta
from shared.training.datasets import FAKE, REAL
from shared.training.datasets.selfblend import BlendConfig, self_blend
from shared.training.extract import FaceRecord, write_index
from shared.training.photos import offline_photo, random_view
from shared.training.train import TrainConfig, train

SIZE = 96
STRONG = BlendConfig(color_jitter=0.6, blend_ratios=(1.0,), blur_sigma=(1.0, 3.0))


def make_faces(out: Path, identities: tuple[str, ...], views: int, seed: int) -> None:
    """Real crops of random views; fakes: the same views with a strongly recoloured blend."""
    from shared.model.face_detector import build_face_detector
    from shared.pipeline.faces import detect_faces
    from shared.training.photos import photo_detector_settings
    from shared.types import Frame

    rng = np.random.default_rng(seed)
    det = build_face_detector(photo_detector_settings(), "cpu")
    for identity in identities:
        photo = offline_photo(identity)
        for i in range(views):
            crops = detect_faces([Frame(0, 0.0, random_view(photo, rng))], det, margin=0.3, crop_size=SIZE)
            if not crops:
                continue
            for label, crop in ((REAL, crops[0].crop), (FAKE, self_blend(crops[0].crop, rng, cfg=STRONG)[0])):
                sample = f"{identity}-{i}-{label}"
                folder = out / "faces" / sample
                folder.mkdir(parents=True)
                Image.fromarray(crop).save(folder / "0000_0.png")
                rec = FaceRecord(
                    f"faces/{sample}/0000_0.png", label, identity, sample, 0, 0.0, [0, 0, 1, 1], 1.0
                )
                (folder / "index.json").write_text(json.dumps([asdict(rec)]))
    write_index(out)


@pytest.mark.slow
def test_loss_falls_and_validation_f1_beats_a_constant_answer(tmp_path: Path) -> None:
    make_faces(tmp_path / "train", ("astronaut", "cameraman"), 30, 0)
    make_faces(tmp_path / "val", ("grace_hopper",), 20, 1)
    cfg = TrainConfig.model_validate(
        {
            "data": {
                "path": str(tmp_path / "train"),
                "val_path": str(tmp_path / "val"),
                "description": "test",
            },
            "model": {"backbone": "efficientnet_b0", "input_size": SIZE},
            "optim": {
                "epochs": 8,
                "batch_size": 16,
                "lr": 3e-3,
                "max_steps_per_epoch": 12,
                "focal_gamma": 0,
                "focal_alpha": -1,
                "early_stopping_patience": 10,
                "augment": False,
            },
            "output": str(tmp_path / "run"),
            "version": "t1",
        }
    )
    summary = train(cfg, show_progress=False, log=lambda m: None)
    history = summary["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"] * 0.8, history
    # a constant "fake" answer on this balanced validation set scores F1 = 2/3
    assert summary["best_val_f1"] > 0.75, history
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and {"train_loss", "val", "val_best_threshold", "train_crops_per_s"} <= set(rows[0])

    best = tmp_path / "run" / "best.safetensors"
    meta = read_meta(best)
    assert meta.trained and meta.version == "t1" and 0 < meta.threshold < 1
    assert meta.metrics["validation"]["faces"]["f1"] == pytest.approx(summary["best_val_f1"])
    assert meta.training["train"]["groups"] == 2 and meta.training["validation"]["groups"] == 1
    load_checkpoint(str(best))  # a card the detector accepts

    # resume: asking for 9 epochs continues from the 8 done instead of starting over
    cfg.optim.epochs = 9
    again = train(cfg, show_progress=False, log=lambda m: None)
    assert [h["epoch"] for h in again["history"]] == list(range(1, 10))


def test_focal_loss_down_weights_easy_examples() -> None:
    import torch

    from shared.training.losses import focal_loss

    y = torch.tensor([1.0, 0.0])
    easy = torch.tensor([6.0, -6.0])
    hard = torch.tensor([-1.0, 1.0])
    assert focal_loss(easy, y, -1, 2.0) < focal_loss(easy, y, -1, 0.0) / 100
    bce = torch.nn.functional.binary_cross_entropy_with_logits(hard, y)
    assert focal_loss(hard, y, -1, 0.0) == pytest.approx(float(bce))
