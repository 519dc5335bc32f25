"""Evaluation: levels follow the service's aggregation; calibration writes the threshold and
the metrics, with the data they were measured on, into the checkpoint; a report is written."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.model.checkpoint import init_checkpoint, read_meta
from shared.model.network import NetworkConfig
from shared.training.datasets import REAL
from shared.training.evaluate import evaluate, level_scores
from shared.training.extract import FaceRecord, write_index


def test_levels_are_means_of_faces_then_of_segments() -> None:
    samples = ["a", "a", "a", "b", "b"]
    segments = [0, 0, 1, 0, 0]
    probs = np.array([0.2, 0.4, 0.9, 0.1, 0.3])
    labels = np.array([1, 1, 1, 0, 0])
    lv = level_scores(samples, segments, probs, labels)
    assert np.allclose(lv["segment"][1], [0.3, 0.9, 0.2])
    assert np.allclose(lv["video"][1], [0.6, 0.2]) and list(lv["video"][0]) == [1, 0]
    assert len(lv["face"][1]) == 5


def test_evaluate_calibrates_and_reports(tmp_path: Path) -> None:
    ckpt = tmp_path / "m.safetensors"
    init_checkpoint(ckpt, NetworkConfig(input_size=64))
    rng = np.random.default_rng(0)
    for i in range(6):
        sample = f"s{i}"
        folder = tmp_path / "faces" / "faces" / sample
        folder.mkdir(parents=True)
        records = []
        for f in range(2):
            Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(folder / f"{f:04d}_0.png")
            records.append(
                asdict(
                    FaceRecord(
                        f"faces/{sample}/{f:04d}_0.png",
                        REAL,
                        sample,
                        sample,
                        f,
                        f * 2.5,
                        [10, 10, 50, 50],
                        1.0,
                    )
                )
            )
        (folder / "index.json").write_text(json.dumps(records))
    write_index(tmp_path / "faces")
    res = evaluate(
        str(ckpt),
        tmp_path / "faces",
        selfblend=True,
        calibrate=True,
        report_dir=tmp_path / "report",
        dataset_name="unit",
    )
    assert res["levels"]["face"]["n"] == 24 and res["levels"]["face"]["positives"] == 12
    assert res["levels"]["segment"]["n"] == 24 and res["levels"]["video"]["n"] == 12
    meta = read_meta(ckpt)
    assert meta.threshold == pytest.approx(res["threshold"])
    assert meta.metrics["unit"]["data"]["faces"] == 12
    for name in ("report.md", "roc.png", "pr.png", "metrics.json"):
        assert (tmp_path / "report" / name).stat().st_size > 100
    assert "| face |" in (tmp_path / "report" / "report.md").read_text()


def test_levels_are_serving_s_own_segment_and_video_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluation calls the very functions serving aggregates with; change them, and it follows."""
    import importlib

    import shared.training.evaluate as evaluation

    # (the `shared.pipeline` package re-exports a function named `aggregate`, hence importlib)
    score = importlib.import_module("shared.pipeline.score")
    aggregate = importlib.import_module("shared.pipeline.aggregate")
    assert evaluation.segment_probability is score.segment_probability
    assert evaluation.video_probability is aggregate.video_probability

    samples = ["a", "a", "a", "b", "b"]
    segments = [0, 0, 1, 0, 0]
    probs = np.array([0.2, 0.4, 0.9, 0.1, 0.3])
    labels = np.array([1, 1, 1, 0, 0])
    lv = level_scores(samples, segments, probs, labels)
    seg_a = [score.segment_probability([0.2, 0.4]), score.segment_probability([0.9])]
    seg_b = [score.segment_probability([0.1, 0.3])]
    assert np.allclose(lv["segment"][1], [*seg_a, *seg_b])
    assert np.allclose(
        lv["video"][1], [aggregate.video_probability(seg_a), aggregate.video_probability(seg_b)]
    )

    monkeypatch.setattr(evaluation, "segment_probability", lambda faces: float(max(faces)))
    monkeypatch.setattr(evaluation, "video_probability", lambda segs: float(min(segs)))
    lv = level_scores(samples, segments, probs, labels)
    assert np.allclose(lv["segment"][1], [0.4, 0.9, 0.3])
    assert np.allclose(lv["video"][1], [0.4, 0.3])
    assert np.allclose(lv["face"][1], probs)
