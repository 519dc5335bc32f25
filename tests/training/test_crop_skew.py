"""No train/serve skew in how faces are cut: the margin, geometry and size of the extraction reach
the model card (serving cuts the same), a mismatch is refused at training start, and `evaluate`
uses the checkpoint's own margin."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from shared.errors import InvalidRequest
from shared.model.checkpoint import init_checkpoint, read_meta
from shared.model.network import NetworkConfig
from shared.training import evaluate as evaluation
from shared.training.datasets import FAKE, REAL
from shared.training.extract import ExtractConfig, FaceRecord, extraction_crop, write_index
from shared.training.train import TrainConfig, train

SIZE = 64


def make_faces(out: Path, cfg: ExtractConfig, groups: tuple[str, ...]) -> Path:
    """Random crops as `extract-faces` lays them out, with its extract.json saying how they were cut."""
    rng = np.random.default_rng(len(groups))
    for group in groups:
        for label in (REAL, FAKE):
            sample = f"{group}-{label}"
            folder = out / "faces" / sample
            folder.mkdir(parents=True)
            px = (cfg.crop_size, cfg.crop_size, 3)
            Image.fromarray(rng.integers(0, 255, px, dtype=np.uint8)).save(folder / "0000_0.png")
            rec = FaceRecord(f"faces/{sample}/0000_0.png", label, group, sample, 0, 0.0, [0, 0, 1, 1], 1.0)
            (folder / "index.json").write_text(json.dumps([asdict(rec)]))
    write_index(out)
    (out / "extract.json").write_text(json.dumps(asdict(cfg)))
    return out


def config(tmp_path: Path, train_dir: Path, val_dir: Path) -> TrainConfig:
    return TrainConfig.model_validate(
        {
            "data": {"path": str(train_dir), "val_path": str(val_dir)},
            "model": {"backbone": "efficientnet_b0", "input_size": SIZE},
            "optim": {"epochs": 1, "batch_size": 4, "max_steps_per_epoch": 1, "augment": False},
            "output": str(tmp_path / "run"),
        }
    )


def test_the_card_takes_margin_and_geometry_from_the_extraction(tmp_path: Path) -> None:
    cut = ExtractConfig(crop_size=SIZE, margin=0.5, geometry="dfdc-rect")
    assert extraction_crop(make_faces(tmp_path / "train", cut, ("a", "b"))) is not None
    make_faces(tmp_path / "val", cut, ("c",))
    train(config(tmp_path, tmp_path / "train", tmp_path / "val"), show_progress=False, log=lambda m: None)
    crop = read_meta(tmp_path / "run" / "best.safetensors").crop
    assert (crop.geometry, crop.margin, crop.size) == ("dfdc-rect", 0.5, SIZE)


def test_training_refuses_faces_cut_at_another_size(tmp_path: Path) -> None:
    """The documented DFDC recipe extracted at 224 and trained B4 at 380: training upsampled
    what serving cuts sharp. Refused before any work, saying what to do."""
    make_faces(tmp_path / "train", ExtractConfig(crop_size=SIZE * 2), ("a", "b"))
    make_faces(tmp_path / "val", ExtractConfig(crop_size=SIZE * 2), ("c",))
    with pytest.raises(InvalidRequest, match=f"{SIZE * 2} px \\(not {SIZE}\\).*--size {SIZE}"):
        train(config(tmp_path, tmp_path / "train", tmp_path / "val"), show_progress=False, log=lambda m: None)
    assert not (tmp_path / "run").exists()


def test_training_refuses_validation_faces_cut_otherwise(tmp_path: Path) -> None:
    make_faces(tmp_path / "train", ExtractConfig(crop_size=SIZE, margin=0.5), ("a", "b"))
    make_faces(tmp_path / "val", ExtractConfig(crop_size=SIZE, margin=0.3), ("c",))
    with pytest.raises(InvalidRequest, match="margin 0.3 \\(not 0.5\\)"):
        train(config(tmp_path, tmp_path / "train", tmp_path / "val"), show_progress=False, log=lambda m: None)


def test_evaluate_uses_the_checkpoints_margin_and_refuses_other_cuts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ckpt = tmp_path / "m.safetensors"
    init_checkpoint(ckpt, NetworkConfig(input_size=SIZE, face_margin=0.5))
    seen: dict[str, Any] = {}
    real_face_crops = evaluation.FaceCrops

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real_face_crops(*args, **kwargs)

    monkeypatch.setattr(evaluation, "FaceCrops", spy)
    faces = make_faces(tmp_path / "faces", ExtractConfig(crop_size=SIZE, margin=0.5), ("a", "b", "c"))
    evaluation.evaluate(str(ckpt), faces, selfblend=True)
    assert seen["margin"] == 0.5

    other = make_faces(tmp_path / "other", ExtractConfig(crop_size=SIZE, margin=0.3), ("a", "b"))
    with pytest.raises(InvalidRequest, match="margin 0.3 \\(not 0.5\\)"):
        evaluation.evaluate(str(ckpt), other)


def test_evaluation_levels_follow_the_cards_aggregation() -> None:
    """A `confident` checkpoint's segments and videos are scored over their faces as serving does."""
    from shared.pipeline.aggregate import confident_strategy

    faces = [0.95] * 12 + [0.5] * 3
    samples, segments = ["v"] * 15 + ["w"] * 2, [i // 8 for i in range(15)] + [0, 0]
    probs, labels = np.array(faces + [0.1, 0.15]), np.array([1] * 15 + [0, 0])
    levels = evaluation.level_scores(samples, segments, probs, labels, aggregation="confident")
    assert levels["video"][1] == pytest.approx([confident_strategy(faces), 0.125])
    assert levels["segment"][1] == pytest.approx(
        [confident_strategy(faces[:8]), confident_strategy(faces[8:]), 0.125]
    )
    assert levels["video"][1][0] == pytest.approx(0.95), "12 confident fakes: the mean of those"
    assert evaluation.level_scores(samples, segments, probs, labels)["video"][1][0] == pytest.approx(
        np.mean([np.mean(faces[:8]), np.mean(faces[8:])])
    )
